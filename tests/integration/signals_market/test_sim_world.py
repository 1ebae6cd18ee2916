"""A small seeded pm_sim world (books, trades, resolutions from pm_sim's own functions) through both signal
assets, scored against its planted ground truth."""

import psycopg
import pytest

from bench.scoring_market import load_sim_world, score_market_signals
from pm_assets.signals import arbitrage, spikes
from pm_assets.signals.market_assets import arbitrage_windows, price_spikes
from pm_sim.config import SimConfig
from pm_sim.sim import Sim
from tests.support.market import materialize


@pytest.fixture(scope="module")
def sim():
    return Sim(
        SimConfig(
            seed=3,
            markets=40,
            history_hours=1.0,
            horizon_hours=3.0,
            ws_rate=2.0,
            speed=0.0,
            rate_limits=False,
        )
    )


def test_sim_world_scores_against_planted_truth(sim, world):
    with psycopg.connect(world.url) as conn:
        load_sim_world(conn, sim)
    assert materialize([arbitrage_windows, price_spikes], world.url).success
    assert materialize([arbitrage_windows, price_spikes], world.url).success  # re-run: same rows
    arbs, spks = world.rows("arbitrage_windows"), world.rows("price_spikes")
    assert len({r["signal_key"] for r in arbs}) == len(arbs) and arbs
    assert all(arbitrage.should_fire(r["evidence"]) for r in arbs)
    assert all(spikes.should_fire(r["evidence"]) for r in spks)
    assert all(r["evidence"]["summary"] for r in arbs + spks)
    with psycopg.connect(world.url) as conn:
        figures = score_market_signals(conn, {"records": sim.truth})
    arb = figures["arbitrage_windows"]
    assert arb["noise_passed"] == 0  # no ghost book, incomplete set or disputed market reaches an alert
    planted = [r for r in sim.truth if r["kind"] == "arbitrage_binary" and r["edge_after_fees"] >= 0.002]
    assert planted
    alerts = [r for r in arbs if r["suppressed_reason"] is None]
    for ev in planted:  # every planted binary window worth min_edge after fees is found, close to its start
        hits = [
            r
            for r in alerts
            if r["condition_id"] == ev["condition_id"]
            and abs(r["opened_at"].timestamp() - ev["start_ts"]) < 120
        ]
        assert hits, ev
        assert hits[0]["peak_edge"] == pytest.approx(ev["edge_after_fees"], abs=1e-4)
    assert figures["price_spikes"]["recall"] is not None
