"""Unplanted background flow stays below the signals' default thresholds; anomalies exist only where planted.

Pure pm_sim (no server, no database): the world's own trade flow, books and ground truth.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import pytest

from pm_assets.signals import thresholds
from pm_sim.books import epoch, ladders
from pm_sim.config import SimConfig
from pm_sim.ground_truth import PLANT_BASE
from pm_sim.sim import Sim
from pm_sim.trades import DEPTH_CAP, VOLUME_CAP


def _default(signal: str, name: str):
    return thresholds.default_value(signal, name)


@pytest.fixture(scope="module")
def world():
    sim = Sim(
        SimConfig(
            seed=3,
            markets=60,
            history_hours=4.0,
            horizon_hours=2.0,
            trades_per_second=2.0,
            speed=0.0,
            rate_limits=False,
        )
    )
    w = sim.world
    rows = list(sim.flow.iter_rows(int(w.horizon_end * 1000), int(w.history_start * 1000)))
    background = [r for r in rows if r[2] < 2 * PLANT_BASE]
    assert len(background) > 10_000 and len(background) < len(rows)
    return sim, background


def test_background_fills_are_small_for_their_market(world):
    """Each fill is under VOLUME_CAP of its market's reported 24 h volume and under DEPTH_CAP of the visible
    shares on the book side it hits (bounded by the least that side can hold in any epoch, so a client's
    snapshot from minutes before sees the same bound)."""
    sim, background = world
    w = sim.world
    for r in background[::7]:
        m = w.markets[r[1]]
        assert r[6] * r[7] <= VOLUME_CAP * w.daily_volume_usdc(m) + 0.01
        _, bids, asks = ladders(w, m, r[5], epoch(m, r[0] / 1000))
        assert r[6] <= DEPTH_CAP * sum(q for _, q in (asks if r[4] == 0 else bids)) + 0.01


def test_no_background_position_reaches_a_size_anomaly(world):
    """No wallet's unplanted fills in one market within the accumulation window come near the size-anomaly
    volume rule (niche markets included), let alone its least position."""
    sim, background = world
    w = sim.world
    window = _default("size_anomaly", "accumulation_window_minutes") * 60_000
    share = _default("size_anomaly", "size_volume_share") / _default("size_anomaly", "niche_weight")
    by_pair: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for r in background:
        by_pair[(r[3], r[1])].append(r)
    worst = 0.0
    for (_, mi), fills in by_pair.items():
        fills.sort()
        day = w.daily_volume_usdc(w.markets[mi])
        lo, total = 0, 0.0
        for r in fills:
            total += r[6] * r[7]
            while fills[lo][0] <= r[0] - window:
                total -= fills[lo][6] * fills[lo][7]
                lo += 1
            worst = max(worst, total / day)
            assert total < _default("size_anomaly", "size_min_usdc") or total / day < share / 2
    assert 0 < worst < share / 2


def test_background_arrivals_are_not_bursty(world):
    """Fill counts per 15-minute bucket of a busy market vary about as Poisson arrivals do (variance ~ mean),
    so chance bursts past the default volume-spike z-score do not happen."""
    sim, background = world
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    minutes = _default("price_spike", "spike_window_minutes")
    for r in background:
        counts[r[1]][r[0] // (minutes * 60_000)] += 1
    busy = sorted(counts, key=lambda mi: -sum(counts[mi].values()))[:5]
    for mi in busy:
        series = list(counts[mi].values())[1:-1]  # whole buckets only
        mean, var = statistics.fmean(series), statistics.pvariance(series)
        assert mean > 5 and var < 2.5 * mean


def test_resolution_ramps_are_listed_as_real_moves(world):
    """A market converging to its winner inside the world is listed (true event) so alerts there are right."""
    sim, _ = world
    w = sim.world
    ramps = [r for r in sim.truth if r["kind"] == "resolution_ramp"]
    closing = [
        m
        for m in w.markets
        if m.has_book
        and not m.ghost
        and not m.dispute
        and w.history_start < m.close_time
        and m.close_time - 6 * 3600 < w.horizon_end
    ]
    assert ramps and {r["condition_id"] for r in ramps} == {m.condition_id for m in closing}
    for r in ramps:
        m = w.markets[w.by_condition[r["condition_id"]]]
        assert r["true_event"] and r["end_ts"] == int(m.close_time) and 0 <= r["max_move_15m"] <= 1


def test_fills_inside_a_planted_spike_print_the_spiked_price():
    """Every fill (planted ones too) inside a planted price spike trades at the spiked book: no stale print at
    the pre-spike price that would look like the spike ending early."""
    sim = Sim(
        SimConfig(
            seed=5,
            markets=100,
            history_hours=2.0,
            horizon_hours=6.0,
            trades_per_second=12.0,
            speed=0.0,
            rate_limits=False,
        )
    )
    w = sim.world
    spikes = [r for r in sim.truth if r["kind"] == "price_spike"]
    assert spikes
    checked = 0
    for rec in spikes:
        mi = w.by_condition[rec["condition_id"]]
        before, peak = rec["price_before"], rec["price_peak"]
        for r in sim.flow.iter_rows(rec["end_ts"] * 1000 - 1000, rec["start_ts"] * 1000 + 1000, markets=[mi]):
            yes = r[7] if r[5] == 0 else 1 - r[7]
            assert abs(yes - peak) < abs(yes - before), (rec["start"], r)
            checked += 1
    assert checked > 50
