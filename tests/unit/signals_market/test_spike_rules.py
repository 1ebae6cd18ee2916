"""One test per noise rule of price_spikes, each with the default thresholds and the same series with the rule
turned off (or the event made real), so the test shows that rule is what decides."""

from datetime import timedelta

import pytest

from pm_assets.signals.spikes import SpikeThresholds, price_move_spikes, should_fire, volume_spikes
from tests.support.market import T0

DEFAULT = SpikeThresholds()
# Volume tests use a 2 h baseline (8 buckets, the least a z-score needs) and a 100 USDC floor to stay short.
VOL = SpikeThresholds(baseline_hours=2, min_volume_usdc=100)


def _minutes(*prices, start=T0):
    return [(start + timedelta(minutes=i), p) for i, p in enumerate(prices)]


def test_median_reference_one_odd_print_makes_no_move():
    # 0.40 is one odd print: from it 0.52 is +12 points, but the window's median is 0.50 (+2).
    odd = _minutes(0.50, 0.50, 0.40, 0.50, 0.50, 0.52, 0.52)
    assert price_move_spikes("c", "t", odd, DEFAULT) == []
    # The same last prints after a window that really sat at 0.40 are a move from its median too.
    real = _minutes(0.40, 0.40, 0.40, 0.40, 0.40, 0.52, 0.52)
    [spike] = price_move_spikes("c", "t", real, DEFAULT)
    assert spike.evidence["reference_median"] == pytest.approx(0.40) and should_fire(spike.evidence)


def test_persistence_a_wick_undone_by_the_next_print_never_fires():
    wick = _minutes(0.50, 0.50, 0.50, 0.50, 0.65, 0.50, 0.50)
    assert price_move_spikes("c", "t", wick, DEFAULT) == []
    assert len(price_move_spikes("c", "t", wick, DEFAULT.replace(confirm_prints=0))) == 1
    # A crossing that is the last print so far waits for its confirmation instead of firing.
    pending = _minutes(0.50, 0.50, 0.50, 0.50, 0.65)
    assert price_move_spikes("c", "t", pending, DEFAULT) == []
    [spike] = price_move_spikes("c", "t", [*pending, (T0 + timedelta(minutes=5), 0.66)], DEFAULT)
    assert spike.evidence["confirm_prices"] == [0.66] and spike.window_end == T0 + timedelta(minutes=4)


def test_own_volatility_a_market_that_routinely_swings_is_not_spiking():
    # A square wave flipping 0.42 <-> 0.58 every 15 minutes for 4 hours: every flip is a 16-point move in one
    # minute, and also the token's usual 15-minute change.
    swings = [(T0 + timedelta(minutes=i), 0.42 if (i // 15) % 2 == 0 else 0.58) for i in range(240)]
    after = T0 + timedelta(hours=1)  # two windows of trailing history exist by then
    assert price_move_spikes("c", "t", swings, DEFAULT, evaluate_from=after) == []
    assert price_move_spikes("c", "t", swings, DEFAULT.replace(move_z=0), evaluate_from=after) != []
    # The same 16-point move on a token that sat still for those hours is many times its usual move.
    calm = [(T0 + timedelta(minutes=i), 0.42) for i in range(120)] + [
        (T0 + timedelta(minutes=120 + i), 0.58) for i in range(3)
    ]
    [spike] = price_move_spikes("c", "t", calm, DEFAULT, evaluate_from=after)
    assert spike.evidence["move_z"] >= DEFAULT.move_z and spike.evidence["volatility_minutes"] >= 15


def test_reversal_of_a_spike_is_the_same_spike():
    # Up 20 points for three minutes, then back: one spike, not a rise and a fall.
    there_and_back = _minutes(*([0.50] * 20), 0.70, 0.70, 0.70, 0.50, 0.50, 0.50, 0.50)
    [spike] = price_move_spikes("c", "t", there_and_back, DEFAULT)
    assert spike.move_points == pytest.approx(20)
    # A fall of the same size well after the reversal (and its quiet window) is a new spike.
    later = [*there_and_back, *_minutes(*([0.50] * 20), 0.30, 0.30, start=T0 + timedelta(minutes=60))]
    spikes = price_move_spikes("c", "t", later, DEFAULT)
    assert [round(s.move_points) for s in spikes] == [20, -20]


def test_one_odd_print_inside_a_spike_does_not_end_it():
    # After two calm hours, up 20 points for 30 minutes with one stale print at the old price 5 minutes in, then back: still one spike
    # (the odd print is not its reversal, so the real reversal 25 minutes later is no second spike).
    odd = _minutes(*([0.50] * 120), *([0.70] * 5), 0.50, *([0.70] * 24), *([0.50] * 10))
    [spike] = price_move_spikes("c", "t", odd, DEFAULT)
    assert spike.move_points == pytest.approx(20)
    # Without the confirmation rule the stale print would count as the reversal, and the real one as a new fall.
    assert [
        round(s.move_points) for s in price_move_spikes("c", "t", odd, DEFAULT.replace(confirm_prints=0))
    ] == [20, -20]


def _quiet(n=8):
    """A few small fills per 15-minute bucket: the market's usual flow."""
    return [
        (T0 + timedelta(minutes=15 * k, seconds=60 * i + 1), "t", 0.5, 40.0 + 5 * ((k + i) % 3))
        for k in range(n)
        for i in range(3)
    ]


def _burst(bucket, fills, usdc):
    start = T0 + timedelta(minutes=15 * bucket, seconds=30)
    return [(start + timedelta(seconds=20 * i), "t", 0.55, usdc / fills) for i in range(fills)]


def test_volume_needs_a_fill_count_burst_not_one_whale_print():
    whale = sorted(_quiet(9) + _burst(8, 1, 5000.0))  # bucket 8: its usual three fills and one whale print
    assert volume_spikes("c", whale, VOL) == []
    assert len(volume_spikes("c", whale, VOL.replace(volume_min_fills=1, volume_fills_z=0))) == 1
    burst = sorted(_quiet(9) + _burst(8, 30, 5000.0))
    [spike] = volume_spikes("c", burst, VOL)
    assert spike.evidence["fills"] == 33 and spike.evidence["fills_z"] >= VOL.volume_fills_z
    assert should_fire(spike.evidence)


def test_a_whale_print_in_the_baseline_does_not_hide_the_next_burst():
    # One $40k print two buckets back would make the baseline's standard deviation about $12k and the burst's
    # z under 2; the z is taken against the baseline's median and median absolute deviation instead.
    fills = _quiet(10) + _burst(8, 1, 40_000.0) + _burst(10, 60, 20_000.0)
    [spike] = volume_spikes("c", sorted(fills), VOL)
    assert spike.window_start == T0 + timedelta(minutes=150) and spike.volume_z >= VOL.volume_z
    assert spike.evidence["baseline_median"] < 200 and should_fire(spike.evidence)


def test_the_bucket_after_a_firing_one_continues_that_burst():
    # A burst straddling a bucket boundary fills two buckets: one spike, at the first.
    straddle = _quiet() + _burst(8, 30, 5000.0) + _burst(9, 30, 5000.0)
    [spike] = volume_spikes("c", sorted(straddle), VOL)
    assert spike.window_start == T0 + timedelta(minutes=120)
    # A second burst after a quiet bucket is a new spike (a 3 h baseline: the fired bucket stays out of it, and
    # eight buckets must remain).
    again = (
        _quiet()
        + _burst(8, 30, 5000.0)
        + [(T0 + timedelta(minutes=135, seconds=5), "t", 0.5, 40.0)]
        + _burst(10, 30, 5000.0)
    )
    assert [s.window_start for s in volume_spikes("c", sorted(again), VOL.replace(baseline_hours=3))] == [
        T0 + timedelta(minutes=120),
        T0 + timedelta(minutes=150),
    ]
