"""A universe run killed with SIGKILL mid-crawl, then re-run, ends with the same rows as an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

import dagster as dg

from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.storage import migrate
from pm_sim.testing import running_sim
from tests.conftest import PROJECT_DIR
from tests.support.universe import sim_resources, table_rows

CHILD = """
import sys
import dagster as dg
from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.resources.gamma import GammaClient
from pm_assets.resources.warehouse import WarehouseResource
resources = {"warehouse": WarehouseResource(database_url=sys.argv[1]),
             "gamma": GammaClient(base_url=sys.argv[2], page_size=3)}
dg.materialize([events, markets_and_tokens], resources=resources)
"""
# Compare what the crawl wrote; first_seen_at / updated_at are wall-clock stamps of the write itself.
QUERIES = {
    "events": "select event_id, slug, title, neg_risk, neg_risk_market_id, neg_risk_augmented, closed, volume "
    "from events order by 1",
    "markets": "select condition_id, market_id, event_id, version, neg_risk, closed, tick_size, fee_schedule, "
    "best_bid, best_ask, volume, resolution_status, winning_token_id from markets order by 1",
    "tokens": "select token_id, condition_id, outcome_index, version, winner from tokens order by 1",
}


def _rows(url):
    return {name: table_rows(url, query) for name, query in QUERIES.items()}


def test_killed_run_then_rerun_matches_an_uninterrupted_run(warehouse_url, fresh_database):
    migrate.upgrade(fresh_database)
    with running_sim(markets=60, seed=9, faults="slow=0.15") as sim:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, warehouse_url, sim.gamma_url],
            cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            stored = 0
            while child.poll() is None and stored < 6:
                time.sleep(0.05)
                stored = table_rows(warehouse_url, "select count(*) from markets")[0][0]
            assert child.poll() is None, "the child finished before it could be killed"
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        finally:
            if child.poll() is None:
                child.kill()
        partial = table_rows(warehouse_url, "select count(*) from markets")[0][0]
        # Pages are committed whole: every market the killed run stored has all of its tokens.
        orphans = table_rows(
            warehouse_url,
            "select count(*) from markets m where not exists "
            "(select 1 from tokens t where t.condition_id = m.condition_id)",
        )
        sim.set_faults()
        assert dg.materialize(
            [events, markets_and_tokens], resources=sim_resources(sim, warehouse_url)
        ).success
        assert dg.materialize(
            [events, markets_and_tokens], resources=sim_resources(sim, fresh_database)
        ).success
    assert child.returncode == -signal.SIGKILL
    after = _rows(warehouse_url)
    assert 0 < partial < len(after["markets"])
    assert after == _rows(fresh_database)
    assert orphans == [(0,)]
