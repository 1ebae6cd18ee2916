"""Spike detection on hand-made series, and price_spikes materialized on a real Postgres."""

from datetime import timedelta

import pytest

from pm_assets.signals.book_traps import MarketState
from pm_assets.signals.market_assets import price_spikes
from pm_assets.signals.spikes import SpikeThresholds, price_move_spikes, should_fire, volume_spikes
from tests.support.market import T0, condition, materialize, token

# Default rules (persistence, own volatility, fill-count burst) on; only the scale is smaller than production's
# (a 2 h volume baseline, 100 USDC least bucket) so the series stay short.
TH = SpikeThresholds(min_move_points=10, window_minutes=15, volume_z=4, baseline_hours=2, min_volume_usdc=100)


def _minutes(*prices, start=T0):
    return [(start + timedelta(minutes=i), p) for i, p in enumerate(prices)]


def test_price_move_fires_once_per_move_with_its_reference():
    points = _minutes(0.50, 0.51, 0.50, 0.55, 0.62, 0.64, 0.65, 0.66)
    [spike] = price_move_spikes("c", "t", points, TH)
    assert spike.price_before == 0.50 and spike.price_after == 0.62
    assert spike.window_start == T0 + timedelta(minutes=2) and spike.window_end == T0 + timedelta(minutes=4)
    assert spike.move_points == pytest.approx(12) and should_fire(spike.evidence)


def test_slow_drift_is_no_spike_and_falls_fire_too():
    drift = [(T0 + timedelta(minutes=10 * i), 0.30 + 0.02 * i) for i in range(10)]
    assert price_move_spikes("c", "t", drift, TH) == []
    [fall] = price_move_spikes("c", "t", _minutes(0.70, 0.69, 0.55, 0.56), TH)
    assert fall.move_points == pytest.approx(-15)


def test_disputed_market_spike_is_held_back():
    [spike] = price_move_spikes(
        "c", "t", _minutes(0.5, 0.7, 0.7), TH, markets={"c": MarketState("c", was_disputed=True)}
    )
    assert spike.suppressed_reason == "market_disputed" and "held back" in spike.evidence["summary"]


def test_spikes_past_end_date_or_not_accepting_orders_are_held_back_with_the_reason():
    """Issue 11: a move after the market's end date, or while it accepts no orders, is stored held back; the same
    move before its end date alerts (a market converging to its winner before then is a real move)."""
    points = _minutes(0.5, 0.7, 0.7)
    [late] = price_move_spikes("c", "t", points, TH, markets={"c": MarketState("c", end_date=T0)})
    assert late.suppressed_reason == "market_past_end_date" and "held back" in late.evidence["summary"]
    [shut] = price_move_spikes("c", "t", points, TH, markets={"c": MarketState("c", accepting_orders=False)})
    assert shut.suppressed_reason == "market_not_accepting_orders"
    [live] = price_move_spikes(
        "c", "t", points, TH, markets={"c": MarketState("c", end_date=T0 + timedelta(hours=1))}
    )
    assert live.suppressed_reason is None
    burst = [
        *_quiet_buckets(),
        *[(T0 + timedelta(minutes=120, seconds=i), "t", 0.5, 300.0) for i in range(40)],
    ]
    [vol] = volume_spikes(
        "c", burst, TH, markets={"c": MarketState("c", end_date=T0 + timedelta(minutes=60))}
    )
    assert vol.suppressed_reason == "market_past_end_date"


def _quiet_buckets(n=8, usdc=100.0):
    """One small fill per 15-minute bucket: the market's usual flow."""
    return [(T0 + timedelta(minutes=15 * k, seconds=1), "t", 0.5, usdc + 5 * (k % 3)) for k in range(n)]


def _burst(bucket, fills=12, usdc=3000.0, price=0.55):
    start = T0 + timedelta(minutes=15 * bucket, seconds=30)
    return [(start + timedelta(seconds=20 * i), "t", price, usdc / fills) for i in range(fills)]


def test_volume_z_against_trailing_baseline():
    fills = _quiet_buckets() + _burst(8)
    [spike] = volume_spikes("c", fills, TH)
    assert spike.kind == "volume_z" and spike.window_start == T0 + timedelta(minutes=120)
    assert spike.volume_usdc == pytest.approx(3000) and spike.volume_z > 4 and should_fire(spike.evidence)
    assert spike.evidence["fills"] == 12 and spike.evidence["fills_z"] >= 4
    assert volume_spikes("c", _quiet_buckets(), TH) == []


def test_price_spikes_asset_is_incremental_and_never_duplicates(world):
    world.market(1, end_date=T0 + timedelta(days=3))
    for i, p in enumerate((0.40, 0.41, 0.40, 0.52, 0.55)):
        world.trade(1, 0, T0 + timedelta(minutes=i), p, 100)
    cfg = {"ops": {"price_spikes": {"config": {"spike_baseline_hours": 1}}}}
    assert materialize([price_spikes], world.url, cfg).success
    [row] = world.rows("price_spikes")
    assert (
        row["kind"] == "price_move" and row["token_id"] == token(1, 0) and row["condition_id"] == condition(1)
    )
    for i, p in enumerate((0.56, 0.57, 0.58)):
        world.trade(1, 0, T0 + timedelta(minutes=5 + i), p, 100)
    assert materialize([price_spikes], world.url, cfg).success
    assert materialize([price_spikes], world.url, cfg).success
    rows = world.rows("price_spikes")
    assert [r["signal_key"] for r in rows] == [row["signal_key"]]
    assert all(should_fire(r["evidence"]) for r in rows)
