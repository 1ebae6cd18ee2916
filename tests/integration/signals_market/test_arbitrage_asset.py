"""arbitrage_windows materialized on a real Postgres from hand-inserted ticks and snapshots."""

from datetime import timedelta

import dagster as dg
import pytest

from pm_assets.signals.arbitrage import should_fire
from pm_assets.signals.market_assets import arbitrage_windows
from tests.support.market import T0, condition, materialize

FEES = {"rate": 0.02, "exponent": 1}


def _binary_world(world):
    world.market(1, fee_schedule=FEES, end_date=T0 + timedelta(days=5))
    world.ws_book(1, 0, T0, [(0.44, 100)], [(0.46, 100)], ltp=0.45)
    world.ws_book(1, 1, T0, [(0.48, 100)], [(0.55, 100)], ltp=0.52)
    world.change(1, 1, T0 + timedelta(seconds=10), "SELL", 0.50, 40)  # 0.46 + 0.50 = 0.96: opens
    # Still there 5 s later (longer than the 2 s reaction time): capturable, so it alerts while open.
    world.change(1, 0, T0 + timedelta(seconds=15), "BUY", 0.44, 100)


def test_a_window_younger_than_the_reaction_time_waits_as_not_capturable(world):
    world.market(3, end_date=T0 + timedelta(days=5))
    world.ws_book(3, 0, T0, [(0.44, 100)], [(0.46, 100)], ltp=0.45)
    world.ws_book(3, 1, T0, [(0.48, 100)], [(0.55, 100)], ltp=0.52)
    world.change(3, 1, T0 + timedelta(seconds=10), "SELL", 0.50, 40)
    assert materialize([arbitrage_windows], world.url).success
    [row] = world.rows("arbitrage_windows")
    assert row["closed_at"] is None and row["suppressed_reason"].startswith("not_capturable")
    world.change(3, 0, T0 + timedelta(seconds=13), "BUY", 0.44, 100)
    assert materialize([arbitrage_windows], world.url).success
    [later] = world.rows("arbitrage_windows")
    assert later["signal_key"] == row["signal_key"] and later["suppressed_reason"] is None


def test_window_opens_stays_open_then_closes_on_rerun_without_duplicates(world):
    _binary_world(world)
    assert materialize([arbitrage_windows], world.url).success
    [row] = world.rows("arbitrage_windows")
    assert row["kind"] == "binary_ask" and row["closed_at"] is None and row["suppressed_reason"] is None
    assert row["condition_id"] == condition(1)
    fees = 0.02 * 0.46 * 0.54 + 0.02 * 0.5 * 0.5
    assert row["peak_edge"] == pytest.approx(0.04 - fees, abs=1e-6)
    assert row["fillable_size"] == pytest.approx(40)
    assert should_fire(row["evidence"]) and row["evidence"]["summary"]

    assert materialize([arbitrage_windows], world.url).success  # nothing new: same row, still open
    assert [r["signal_key"] for r in world.rows("arbitrage_windows")] == [row["signal_key"]]

    world.change(1, 1, T0 + timedelta(seconds=40), "SELL", 0.50, 0)
    assert materialize([arbitrage_windows], world.url).success
    [closed] = world.rows("arbitrage_windows")
    assert closed["signal_key"] == row["signal_key"]
    assert closed["closed_at"] == T0 + timedelta(seconds=40) and closed["duration_s"] == pytest.approx(30)
    assert closed["capturable_usdc"] == pytest.approx(closed["profit_after_fees"])


def test_rest_snapshots_count_and_disputed_market_is_held_back(world):
    world.market(2)
    world.dispute(2)
    world.rest_book(2, 0, T0, [(0.40, 50)], [(0.42, 50)])
    world.rest_book(2, 1, T0, [(0.50, 50)], [(0.52, 50)])
    assert materialize([arbitrage_windows], world.url).success
    [row] = world.rows("arbitrage_windows")
    assert row["suppressed_reason"] == "market_disputed" and "held back" in row["evidence"]["summary"]


def test_negrisk_event_complete_vs_augmented(world):
    for event_id, base, augmented in (("ev-complete", 10, False), ("ev-augmented", 20, True)):
        world.event(event_id, augmented=augmented)
        for k in range(3):
            world.market(base + k, event_id=event_id, neg_risk=True)
            world.ws_book(base + k, 0, T0, [(0.29, 30)], [(0.31, 30)], ltp=0.30)
    for n in (10, 20):  # still there 5 s later: longer than the reaction time
        world.ws_book(n, 0, T0 + timedelta(seconds=5), [(0.29, 30)], [(0.31, 30)], ltp=0.30)
    assert materialize([arbitrage_windows], world.url).success
    rows = {r["event_id"]: r for r in world.rows("arbitrage_windows") if r["kind"] == "negrisk_ask"}
    assert rows["ev-complete"]["suppressed_reason"] is None
    assert rows["ev-complete"]["fillable_size"] == pytest.approx(30)
    assert rows["ev-augmented"]["suppressed_reason"].startswith("incomplete_negrisk_set")
    for r in world.rows("arbitrage_windows"):
        assert should_fire(r["evidence"])


def test_invalid_threshold_is_refused(world):
    _binary_world(world)
    cfg = {"ops": {"arbitrage_windows": {"config": {"arbitrage_min_edge": -1.0}}}}
    with pytest.raises(dg.Failure, match="arbitrage_min_edge must be at least"):
        materialize([arbitrage_windows], world.url, cfg)
