"""Edge and fill walk on hand-made ladders, window open/close from tick sequences, and the book traps."""

from datetime import UTC, datetime, timedelta

import pytest

from pm_assets.markets.fees import taker_fee
from pm_assets.signals.arbitrage import (
    ArbitrageThresholds,
    ArbSet,
    Leg,
    Tick,
    fill_walk,
    replay_windows,
    should_fire,
    top_edge,
    window_evidence,
)
from pm_assets.signals.book_traps import MarketState, ghost_book_reason, held_reason, negrisk_set_reason

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FEES = {"rate": 0.02, "exponent": 1.0}
YES, NO = Leg("1", "0x" + "a" * 64), Leg("2", "0x" + "a" * 64)


def test_fill_walk_without_fees_stops_where_the_set_costs_one():
    asks_yes = [(0.40, 100.0), (0.45, 50.0), (0.55, 500.0)]
    asks_no = [(0.50, 80.0), (0.54, 200.0)]
    fill = fill_walk([YES, NO], [asks_yes, asks_no], "ask")
    # 80 sets at 0.90, 20 at 0.94, 50 at 0.99; then 0.55 + 0.54 > 1.
    assert fill.size == pytest.approx(150.0)
    assert fill.cost == pytest.approx(80 * 0.90 + 20 * 0.94 + 50 * 0.99)
    assert fill.fees == 0
    assert fill.profit_after_fees == pytest.approx(150 - fill.cost)


def test_fees_shrink_the_edge_and_the_fillable_size():
    legs = [Leg("1", "0x" + "a" * 64, FEES), Leg("2", "0x" + "a" * 64, FEES)]
    asks_yes, asks_no = [(0.40, 100.0), (0.45, 50.0)], [(0.50, 80.0), (0.545, 200.0)]
    edge, gross = top_edge(legs, [asks_yes, asks_no], "ask")
    assert gross == pytest.approx(0.10)
    assert edge == pytest.approx(0.10 - 0.02 * 0.4 * 0.6 - 0.02 * 0.5 * 0.5)
    fill = fill_walk(legs, [asks_yes, asks_no], "ask")
    # At 0.45 + 0.545 = 0.995 the fees (≈0.0099) eat the 0.005 gross edge: the walk stops after 100 sets.
    assert fill.size == pytest.approx(100.0)
    assert fill.fees == pytest.approx(
        taker_fee(100, 0.40, FEES) + taker_fee(80, 0.50, FEES) + taker_fee(20, 0.545, FEES)
    )
    assert fill.fees > 0
    assert fill.profit_after_fees == pytest.approx(fill.gross_profit - fill.fees)


def test_bid_side_sells_sets_above_one_and_max_cost_caps_the_fill():
    fill = fill_walk([YES, NO], [[(0.55, 100.0)], [(0.50, 100.0)]], "bid")
    assert fill.size == pytest.approx(100) and fill.gross_profit == pytest.approx(5.0)
    capped = fill_walk([YES, NO], [[(0.55, 100.0)], [(0.50, 100.0)]], "bid", max_cost=40)
    assert capped.size == pytest.approx(40)


def _book(at, token, bids, asks):
    return Tick(
        at,
        token,
        "book",
        bids=tuple({"price": str(p), "size": str(s)} for p, s in bids),
        asks=tuple({"price": str(p), "size": str(s)} for p, s in asks),
    )


def test_window_opens_and_closes_from_a_tick_sequence_and_measures_capture():
    th = ArbitrageThresholds(min_edge=0.005, reaction_s=2.0)
    arb = ArbSet("0x" + "a" * 64, "binary", (YES, NO), condition_id="0x" + "a" * 64)
    ticks = [
        _book(T0, "1", [(0.44, 100)], [(0.46, 100)]),
        _book(T0, "2", [(0.53, 100)], [(0.55, 100)]),  # 0.46 + 0.55 > 1: nothing
        # One order changes both books of a binary market (they mirror): each change frame carries both tokens.
        Tick(T0 + timedelta(seconds=1), "1", "change", side="BUY", price=0.44, size=100),
        Tick(T0 + timedelta(seconds=1), "2", "change", side="SELL", price=0.52, size=60),  # 0.98: opens
        Tick(T0 + timedelta(seconds=2), "2", "change", side="SELL", price=0.51, size=30),  # 0.97: peak
        Tick(T0 + timedelta(seconds=5), "2", "change", side="SELL", price=0.51, size=0),
        Tick(
            T0 + timedelta(seconds=5), "2", "change", side="SELL", price=0.52, size=0
        ),  # back to 0.55: closes
    ]
    [w] = replay_windows([arb], ticks, {}, th)
    assert w.kind == "binary_ask" and w.opened_at == T0 + timedelta(seconds=1)
    assert w.closed_at == T0 + timedelta(seconds=5)
    assert w.peak.edge == pytest.approx(0.03) and w.peak_at == T0 + timedelta(seconds=2)
    # At open + 2 s the book was the peak state: 30 sets at 0.97 and 60 at 0.98.
    assert w.peak.fill.size == pytest.approx(90)
    assert w.capturable_usdc == pytest.approx(30 * 0.03 + 60 * 0.02)
    assert should_fire(window_evidence(w, th)) and "after fees" in window_evidence(w, th)["summary"]


def test_window_shorter_than_reaction_is_not_capturable_and_open_window_stays_open():
    th = ArbitrageThresholds(min_edge=0.005, reaction_s=3.0)
    arb = ArbSet("0x" + "a" * 64, "binary", (YES, NO), condition_id="0x" + "a" * 64)
    short = [
        _book(T0, "1", [(0.44, 100)], [(0.46, 100)]),
        _book(T0, "2", [(0.50, 100)], [(0.52, 100)]),
        _book(T0 + timedelta(seconds=1), "2", [(0.50, 100)], [(0.56, 100)]),
        _book(T0 + timedelta(seconds=9), "2", [(0.50, 100)], [(0.52, 100)]),
    ]
    first, second = replay_windows([arb], short, {}, th, now=T0 + timedelta(seconds=10))
    assert first.capturable_usdc == 0 and first.closed_at == T0 + timedelta(seconds=1)
    assert second.closed_at is None and second.opened_at == T0 + timedelta(seconds=9)


def test_mirrored_halves_at_one_timestamp_never_open_a_window():
    th = ArbitrageThresholds(min_edge=0.001)
    arb = ArbSet("c", "binary", (YES, NO), condition_id="c")
    ticks = [
        _book(T0, "1", [(0.44, 100)], [(0.46, 100)]),
        _book(T0, "2", [(0.54, 100)], [(0.56, 100)]),
        # YES ask drops and NO ask rises in the same frame: the sum never dips below 1.
        Tick(T0 + timedelta(seconds=1), "1", "change", side="SELL", price=0.40, size=10),
        Tick(T0 + timedelta(seconds=1), "2", "change", side="SELL", price=0.56, size=0),
        Tick(T0 + timedelta(seconds=1), "2", "change", side="SELL", price=0.61, size=10),
    ]
    assert replay_windows([arb], ticks, {}, th) == []


def test_delta_before_any_snapshot_leaves_the_book_unknown():
    arb = ArbSet("c", "binary", (YES, NO), condition_id="c")
    ticks = [
        _book(T0, "1", [(0.44, 100)], [(0.30, 100)]),
        Tick(T0, "2", "change", side="SELL", price=0.30, size=100),
    ]
    assert replay_windows([arb], ticks, {}, ArbitrageThresholds()) == []


def test_negrisk_set_completeness():
    legs = [MarketState("a"), MarketState("b"), MarketState("c")]
    known = {"a": True, "b": True, "c": True}
    assert negrisk_set_reason(False, legs, known) is None
    assert "Augmented" in negrisk_set_reason(True, legs, known)
    assert "no book" in negrisk_set_reason(False, legs, {**known, "c": False})
    assert "negRiskOther" in negrisk_set_reason(
        False, [*legs[:2], MarketState("c", neg_risk_other=True)], known
    )
    assert "placeholder" in negrisk_set_reason(
        False, [*legs[:2], MarketState("c", group_item_title="Other")], known
    )


def test_incomplete_negrisk_set_fires_only_suppressed():
    th = ArbitrageThresholds(min_edge=0.01)
    legs = (Leg("1", "a"), Leg("3", "b"), Leg("5", "c"))
    arb = ArbSet("ev", "negrisk", legs, event_id="ev")
    ticks = [_book(T0, "1", [(0.3, 50)], [(0.32, 50)]), _book(T0, "3", [(0.3, 50)], [(0.32, 50)])]
    [w] = replay_windows([arb], ticks, {}, th)  # leg "5" has no book: 0.64 is not an edge
    assert w.suppressed_reason.startswith("incomplete_negrisk_set") and w.kind == "negrisk_ask"
    # The third leg's book arrives a second later: the set is complete from then, once all three are re-read
    # in one instant (the first two snapshots are a second old by then).
    later = T0 + timedelta(seconds=1)
    ticks += [_book(later, t, [(0.3, 50)], [(0.32, 50)]) for t in ("1", "3", "5")]
    windows = replay_windows([arb], ticks, {}, th, now=later + timedelta(seconds=5))
    assert [x.suppressed_reason for x in windows] == [windows[0].suppressed_reason, None]
    assert windows[1].peak.gross_edge == pytest.approx(0.04) and windows[1].peak.fill.size == pytest.approx(
        50
    )


def test_ghost_books():
    kw = {"extreme": 0.01, "min_usdc": 10.0, "max_deviation": 0.15}
    assert ghost_book_reason([(0.01, 2.0)], [(0.99, 2.0)], None, **kw).startswith("ghost_book: top ask")
    assert ghost_book_reason([(0.01, 5000.0)], [(0.99, 5000.0)], None, **kw) is None
    # 500 shares at 0.01 are $5: still a ghost bid, although 500 shares at 0.99 would be real.
    assert ghost_book_reason([(0.01, 500.0)], [(0.99, 500.0)], None, **kw).startswith("ghost_book: top bid")
    assert "disagrees" in ghost_book_reason([(0.20, 100.0)], [(0.22, 100.0)], 0.60, **kw)
    assert ghost_book_reason([(0.58, 100.0)], [(0.60, 100.0)], 0.60, **kw) is None


def test_a_longshot_legs_tiny_bid_does_not_hold_back_buying_the_set():
    # Seed 1's missed negRisk window: a 0.002 leg on a 0.001 tick has a 0.001 bid with cents behind it. Buying
    # the set pays that leg's ask, which is real; only an extreme quote on the side the set trades is a ghost.
    kw = {"extreme": 0.01, "min_usdc": 25.0, "max_deviation": 0.15}
    longshot_bids, longshot_asks = [(0.001, 40.0)], [(0.002, 300.0), (0.003, 500.0)]
    assert ghost_book_reason(longshot_bids, longshot_asks, None, **kw).startswith("ghost_book: top bid")
    assert ghost_book_reason(longshot_bids, longshot_asks, None, side="ask", **kw) is None
    assert ghost_book_reason(longshot_bids, longshot_asks, None, side="bid", **kw).startswith(
        "ghost_book: top bid"
    )
    assert ghost_book_reason([(0.5, 100.0)], [(0.995, 3.0)], None, side="ask", **kw).startswith(
        "ghost_book: top ask"
    )
    legs = (Leg("1", "0x" + "1" * 64), Leg("2", "0x" + "2" * 64), Leg("3", "0x" + "3" * 64))
    arb = ArbSet("e", "negrisk", legs, event_id="e")
    ticks = [
        _book(T0, "1", [(0.001, 40)], [(0.002, 300)]),
        _book(T0, "2", [(0.47, 400)], [(0.48, 400)]),
        _book(T0, "3", [(0.49, 400)], [(0.50, 400)]),
    ]
    [w] = replay_windows([arb], ticks, {}, ArbitrageThresholds(), now=T0 + timedelta(seconds=5))
    assert (
        w.kind == "negrisk_ask" and w.suppressed_reason is None and w.peak.gross_edge == pytest.approx(0.018)
    )


def test_ghost_leg_suppresses_the_window():
    th = ArbitrageThresholds(min_edge=0.005)
    arb = ArbSet("c", "binary", (YES, NO), condition_id="c")
    ticks = [
        Tick(T0, "2", "trade", price=0.80),
        _book(T0, "1", [(0.44, 100)], [(0.46, 100)]),
        _book(T0, "2", [(0.40, 100)], [(0.50, 100)]),
    ]
    [w] = replay_windows([arb], ticks, {}, th)
    assert w.suppressed_reason.startswith("ghost_book")


def test_dispute_and_other_holds():
    now = T0
    assert held_reason(MarketState("c", was_disputed=True), now) == "market_disputed"
    assert held_reason(MarketState("c", extended_review=True), now) == "market_extended_review"
    assert held_reason(MarketState("c", accepting_orders=False), now) == "market_not_accepting_orders"
    assert held_reason(MarketState("c", end_date=now - timedelta(hours=1)), now) == "market_past_end_date"
    assert held_reason(MarketState("c", end_date=now + timedelta(hours=1)), now) is None
    th = ArbitrageThresholds(min_edge=0.005)
    arb = ArbSet("c", "binary", (Leg("1", "c"), Leg("2", "c")), condition_id="c")
    ticks = [_book(T0, "1", [(0.44, 100)], [(0.46, 100)]), _book(T0, "2", [(0.44, 100)], [(0.46, 100)])]
    [w] = replay_windows([arb], ticks, {"c": MarketState("c", was_disputed=True)}, th)
    assert w.suppressed_reason == "market_disputed"


def test_a_backfill_before_the_known_close_is_not_held_by_todays_close():
    closed = MarketState("c", closed=True, accepting_orders=False, closed_at=T0)
    assert held_reason(closed, T0 - timedelta(hours=1)) is None
    assert held_reason(closed, T0) == "market_closed"
    assert held_reason(MarketState("c", closed=True), T0 - timedelta(days=9)) == "market_closed"
