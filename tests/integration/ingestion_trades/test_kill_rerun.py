"""A trade backfill killed with SIGKILL mid-run, then re-run, ends with the rows of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import dagster as dg

from pm_assets.trades.assets import trades
from pm_sim.testing import running_sim
from tests.conftest import PROJECT_DIR
from tests.support.trades import (
    SIM_DAY_BEFORE,
    emitted_fills,
    resources,
    scalar,
    seed_universe,
    stored_fills,
)

CHILD = """
import sys
from datetime import datetime, UTC
import psycopg
from pm_assets.resources.data_api import DataApiClient
from pm_assets.trades.loading import backfill_trade_window, run_trade_load
url, data_url = sys.argv[1], sys.argv[2]
start, end = datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
run_trade_load(DataApiClient(base_url=data_url, page_limit=100), lambda: psycopg.connect(url),
               lambda s, w: backfill_trade_window(s, w, start, end, concurrency=1), batch_size=100)
"""


def test_sigkill_mid_batch_then_rerun_gives_the_same_rows(warehouse_url):
    with running_sim(markets=20, trades_per_second=1.0, data_v1=False) as sim:
        seed_universe(warehouse_url, sim)
        expected = emitted_fills(sim, end=sim.sim.world.history_start + 7200)
        total = sum(expected.values())
        sim.set_faults(slow=0.05)
        child = subprocess.Popen([sys.executable, "-c", CHILD, warehouse_url, sim.data_url], cwd=PROJECT_DIR)
        try:
            count = 0
            while count < 300 and child.poll() is None:
                time.sleep(0.05)
                count = scalar(warehouse_url, "select count(*) from trades")
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait()
        assert child.returncode == -signal.SIGKILL
        at_kill = scalar(warehouse_url, "select count(*) from trades")
        assert 0 < at_kill < total and at_kill % 100 == 0  # whole batches only: each one is a transaction
        assert (
            scalar(warehouse_url, "select count(*) from ingestion_cursors where name like 'trades_day:%%'")
            == 0
        )

        sim.set_faults()
        result = dg.materialize(
            [trades], partition_key=SIM_DAY_BEFORE, resources=resources(sim, warehouse_url)
        )
        assert result.success
        assert stored_fills(warehouse_url) == expected
