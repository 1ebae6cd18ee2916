"""Arbitrage on real-shaped books (issue 16): snapshot-only binary books of a 15-minute market, mirrored, about
one snapshot per token and second, the two tokens' snapshots arriving at different moments (resolvedkit's shape).

Every case goes through `replay_windows`, the function the asset and the backtest call."""

from datetime import UTC, datetime, timedelta

import pytest

from pm_assets.signals.arbitrage import (
    ArbitrageThresholds,
    ArbSet,
    Leg,
    Tick,
    replay_windows,
    window_evidence,
)

T0 = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
CID = "0x" + "b" * 64
UP, DOWN = Leg("11", CID), Leg("22", CID)
ARB = ArbSet(CID, "binary", (UP, DOWN), condition_id=CID)
TH = ArbitrageThresholds()  # the defaults: 250 ms skew, 2 s reaction


def _ms(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def _book(at, token, bids, asks):
    return Tick(
        at,
        token,
        "book",
        bids=tuple({"price": str(p), "size": str(s)} for p, s in bids),
        asks=tuple({"price": str(p), "size": str(s)} for p, s in asks),
    )


def _mirror(at, up_bid, up_ask, size=200):
    """Both tokens of one instant: Down's book is Up's seen from the other side."""
    return [
        _book(at, "11", [(up_bid, size)], [(up_ask, size)]),
        _book(at, "22", [(round(1 - up_ask, 4), size)], [(round(1 - up_bid, 4), size)]),
    ]


def test_a_fresh_snapshot_against_its_siblings_stale_one_is_kept_as_stale_leg():
    # Up moved from 0.60/0.61 to 0.40/0.41 at 1.000 s; Down's next snapshot only comes 1.3 s later. Up's fresh ask
    # (0.41) plus Down's stale ask (0.40) sums to 0.81: a window that never existed.
    ticks = [*_mirror(_ms(0), 0.60, 0.61), _book(_ms(1000), "11", [(0.40, 200)], [(0.41, 200)])]
    ticks += _mirror(_ms(2300), 0.40, 0.41)
    [w] = replay_windows([ARB], ticks, {}, TH, now=_ms(5000))
    assert w.suppressed_reason.startswith("stale_leg")
    ev = window_evidence(w, TH)
    assert ev["leg_skew_ms_at_peak"] == pytest.approx(1000) and ev["thresholds"]["max_leg_skew_ms"] == 250
    # Read as one book, the pair disagrees with itself: Up ask 0.41 against 1 - Down bid = 0.61.
    assert ev["one_book_at_peak"] == {
        "up_ask": 0.41,
        "up_ask_mirror": 0.61,
        "up_bid": 0.40,
        "up_bid_mirror": 0.60,
    }


def test_a_book_crossed_inside_its_own_snapshot_is_kept_as_crossed_book():
    # Both snapshots in the same millisecond, but Up's own book is crossed (bid 0.52 >= ask 0.47).
    ticks = [
        _book(_ms(0), "11", [(0.52, 50)], [(0.47, 50)]),
        _book(_ms(0), "22", [(0.45, 50)], [(0.52, 50)]),
        *_mirror(_ms(4000), 0.50, 0.51),
    ]
    [w] = replay_windows([ARB], ticks, {}, TH, now=_ms(6000))
    assert w.suppressed_reason.startswith("crossed_book") and "0.52 >= ask 0.47" in w.suppressed_reason
    assert window_evidence(w, TH)["crossed_book"] == w.suppressed_reason


def test_a_consistent_window_shorter_than_the_reaction_time_is_kept_as_not_capturable():
    # One instant, both books honest (not mirrors of each other, not crossed): 0.45 + 0.50 = 0.95. It lasts 0.9 s.
    ticks = [
        _book(_ms(0), "11", [(0.44, 100)], [(0.45, 100)]),
        _book(_ms(10), "22", [(0.49, 100)], [(0.50, 100)]),
        *_mirror(_ms(900), 0.44, 0.45),
    ]
    [w] = replay_windows([ARB], ticks, {}, TH, now=_ms(5000))
    assert w.suppressed_reason.startswith("not_capturable") and w.capturable_usdc == 0
    assert window_evidence(w, TH)["consistent_seconds"] == pytest.approx(0.89)


def test_the_same_window_held_for_longer_than_the_reaction_time_alerts():
    ticks = []
    for ms in range(0, 6000, 1000):  # re-read every second, the two tokens 40 ms apart
        ticks += [
            _book(_ms(ms), "11", [(0.44, 100)], [(0.45, 100)]),
            _book(_ms(ms + 40), "22", [(0.49, 100)], [(0.50, 100)]),
        ]
    ticks += _mirror(_ms(6000), 0.44, 0.45)
    [w] = replay_windows([ARB], ticks, {}, TH, now=_ms(8000))
    assert w.suppressed_reason is None and w.closed_at == _ms(6000)
    assert w.capturable_usdc > 0 and w.consistent_observations >= 6
    assert window_evidence(w, TH)["leg_skew_ms_at_peak"] <= 40


def test_mirrored_books_of_one_instant_never_open_a_window():
    ticks = []
    for k, (bid, ask) in enumerate([(0.30, 0.31), (0.55, 0.56), (0.90, 0.91), (0.12, 0.13)]):
        ticks += _mirror(_ms(k * 1000), bid, ask)
    assert replay_windows([ARB], ticks, {}, TH) == []


def test_a_wider_skew_threshold_reaches_the_detector():
    ticks = [*_mirror(_ms(0), 0.60, 0.61), _book(_ms(1000), "11", [(0.40, 200)], [(0.41, 200)])]
    ticks += [_book(_ms(k), "11", [(0.40, 200)], [(0.41, 200)]) for k in range(2000, 6000, 1000)]
    ticks += _mirror(_ms(6000), 0.40, 0.41)
    lenient = ArbitrageThresholds(max_leg_skew_ms=60_000)
    [w] = replay_windows([ARB], ticks, {}, lenient, now=_ms(8000))
    assert w.suppressed_reason is None, "with a minute of tolerated skew the stale pair counts as one instant"
    [strict] = replay_windows([ARB], ticks, {}, TH, now=_ms(8000))
    assert strict.suppressed_reason.startswith("stale_leg")


def test_negrisk_legs_are_separate_markets_whose_quiet_books_stay_current():
    # Three outcomes of one event, each its own market; the streams update them seconds apart.
    legs = (Leg("31", "0x" + "1" * 64), Leg("32", "0x" + "2" * 64), Leg("33", "0x" + "3" * 64))
    arb = ArbSet("ev", "negrisk", legs, event_id="ev")
    ticks = [
        _book(_ms(0), "31", [(0.29, 100)], [(0.30, 100)]),
        _book(_ms(7000), "32", [(0.29, 100)], [(0.30, 100)]),
        _book(_ms(19000), "33", [(0.35, 100)], [(0.36, 100)]),
        _book(_ms(40000), "33", [(0.39, 100)], [(0.40, 100)]),
    ]
    *before, w = replay_windows([arb], ticks, {}, TH, now=_ms(60000))
    assert all(b.suppressed_reason.startswith("incomplete_negrisk_set") for b in before), (
        "until all books are known"
    )
    assert w.suppressed_reason is None and w.opened_at == _ms(19000) and w.closed_at == _ms(40000)
    assert window_evidence(w, TH)["leg_skew_ms_at_peak"] == 0
