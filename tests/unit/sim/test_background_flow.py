"""Real moves in the world are listed in the ground truth, and planted spikes print the spiked price.

Pure pm_sim (no server, no database): the world's own trade flow, books and ground truth. The background
flow's own shape (fitted to real data, bursty, heavy-tailed) is checked in test_flow_fit.py; it is no longer
bounded below any detector's thresholds.
"""

from __future__ import annotations

import pytest

from pm_sim.config import SimConfig
from pm_sim.ground_truth import PLANT_BASE
from pm_sim.sim import Sim


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
