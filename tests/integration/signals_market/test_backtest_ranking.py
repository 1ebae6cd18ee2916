"""Backtest (current vs proposed thresholds, side by side) and ranking components."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from pm_assets.signals.backtest import backtest
from pm_assets.signals.market_assets import market_rankings
from pm_assets.signals.ranking import MarketInputs, percentile_ranks, rank_markets
from pm_assets.signals.thresholds import ThresholdError
from pm_sensors.signals.schedules import market_run_config
from tests.support.market import condition, materialize


def test_percentile_ranks_share_ties_and_missing_rank_lowest():
    assert percentile_ranks([1.0, 3.0, 3.0, None, 5.0]) == [0.0, 0.5, 0.5, 0.0, 1.0]
    assert percentile_ranks([2.0]) == [1.0]


def test_rank_markets_components_and_order():
    ms = [
        MarketInputs("a", 100.0, 10.0, 0.10, 0.01, 0),
        MarketInputs("b", 1000.0, 100.0, 0.01, 0.2, 3),
        MarketInputs("c", 500.0, 50.0, None, None, 0),
    ]
    ranked = rank_markets(ms)
    assert [r[0] for r in ranked] == ["b", "c", "a"] and [r[1] for r in ranked] == [1, 2, 3]
    top = ranked[0]
    assert top[2] == pytest.approx(100.0) and top[3]["percentiles"]["tightness"] == 1.0
    assert ranked[1][3]["percentiles"] == {
        "volume": 0.5,
        "liquidity": 0.5,
        "tightness": 0.0,
        "movement": 0.0,
        "activity": 0.0,
    }


def test_market_rankings_asset_writes_one_ranked_set_per_run(world):
    for n, vol in ((1, 100.0), (2, 5000.0)):
        world.market(n, volume_24h=vol)
    assert materialize([market_rankings], world.url).success
    rows = sorted(world.rows("market_rankings"), key=lambda r: r["rank"])
    assert [r["condition_id"] for r in rows] == [condition(2), condition(1)]
    assert rows[0]["components"]["inputs"]["volume_24h"] == 5000.0


def test_backtest_compares_current_and_proposed_thresholds(world):
    now = datetime.now(UTC).replace(microsecond=0)
    world.market(1)
    # +7 points in 6 minutes (fires at 5 points only), then +11 in 3 minutes half an hour later (fires at both);
    # each move is confirmed by the print after it, so the default persistence rule holds for both sets.
    for minute, p in ((0, 0.40), (3, 0.41), (6, 0.47), (30, 0.47), (33, 0.58), (36, 0.58)):
        world.trade(1, 0, now - timedelta(hours=2) + timedelta(minutes=minute), p, 100)
    with psycopg.connect(world.url) as conn:
        result = backtest(
            conn, "price_spike", {"spike_min_move_points": 10}, {"spike_min_move_points": 5}, 1, now=now
        )
        assert result["changed"] == ["spike_min_move_points"]
        assert result["current"]["fired"] == 1 and result["proposed"]["fired"] == 2
        assert result["proposed"]["figures"]["1h"]["alerts"] == 2
        with pytest.raises(ThresholdError, match="spike_min_move_points must be at least"):
            backtest(conn, "price_spike", {}, {"spike_min_move_points": -3}, 1, now=now)
    assert world.rows("price_spikes") == []  # a backtest writes nothing


def test_scheduled_runs_resolve_the_saved_overrides_when_they_start(world):
    world.conn.execute(
        "insert into threshold_overrides (signal_type, name, value) values"
        " ('arbitrage', 'arbitrage_min_edge', '0.01')"
    )
    from pm_assets.resources.warehouse import WarehouseResource
    from pm_assets.signals.market_assets import arbitrage_windows

    resources = {"warehouse": WarehouseResource(database_url=world.url)}
    # arbitrage_windows runs in the live run's market-signals round (or when a user launches it), not on the
    # schedule; the config a run gets carries no threshold values: the run reads the override store when it starts.
    with psycopg.connect(world.url) as conn:
        ops = {"arbitrage_windows": market_run_config(conn)["ops"]["arbitrage_windows"]}
    assert ops["arbitrage_windows"]["config"] == {}
    result = dg.materialize([arbitrage_windows], resources=resources, run_config={"ops": ops})
    used = result.asset_materializations_for_node("arbitrage_windows")[0].metadata["thresholds"].value
    assert used["arbitrage_min_edge"] == 0.01
    with psycopg.connect(world.url) as conn:
        assert market_run_config(conn)["ops"]["arbitrage_windows"]["config"] == {}


def test_launchpad_spike_thresholds_keep_alerted_spikes_and_what_if_writes_beside(world):
    from pm_assets.signals.market_assets import price_spikes

    now = datetime.now(UTC).replace(microsecond=0)
    world.market(1)
    for minute, p in ((0, 0.40), (3, 0.41), (6, 0.47), (30, 0.47), (33, 0.58), (36, 0.58)):
        world.trade(1, 0, now - timedelta(hours=2) + timedelta(minutes=minute), p, 100)
    assert materialize([price_spikes], world.url).success
    alerted = [r for r in world.rows("price_spikes") if r["suppressed_reason"] is None]
    assert len(alerted) == 1

    rescan = (now - timedelta(hours=3)).isoformat()
    what_if = {"spike_min_move_points": 5.0, "what_if": True, "rescan_from": rescan}
    result = materialize([price_spikes], world.url, {"ops": {"price_spikes": {"config": what_if}}})
    meta = result.asset_materializations_for_node("price_spikes")[0].metadata
    assert meta["thresholds"].value["spike_min_move_points"] == 5.0
    assert world.rows("price_spikes") == [*alerted] and world.rows("threshold_overrides") == []
    with psycopg.connect(world.url) as conn:
        fired = backtest(conn, "price_spike", {}, {"spike_min_move_points": 5.0}, 1, now=now)["proposed"][
            "fired"
        ]
    stored = [r for r in world.rows("signal_what_if") if r["what_if_id"] == meta["what_if_id"].value]
    assert len(stored) == fired == 2

    # Lasting: the rescan finds the same spike under a changed volume threshold; the alerted row keeps the
    # evidence (thresholds included) it was alerted with.
    lasting = {"spike_min_volume_usdc": 600.0, "rescan_from": rescan}
    assert materialize([price_spikes], world.url, {"ops": {"price_spikes": {"config": lasting}}}).success
    assert world.rows("price_spikes") == alerted
    assert [(r["name"], r["value"], r["updated_by"]) for r in world.rows("threshold_overrides")] == [
        ("spike_min_volume_usdc", 600.0, "launchpad")
    ]
