"""Every good row exactly once under 429 storms, 5xx, timeouts, malformed, truncated and drifted payloads."""

from __future__ import annotations

import dagster as dg
import psycopg

from pm_assets.trades.assets import trades
from pm_sim.testing import running_sim
from tests.support.trades import (
    SIM_DAY_BEFORE,
    emitted_fills,
    resources,
    seed_universe,
    stored_fills,
)


def test_faulty_upstream_still_loads_each_fill_once_and_quarantines_bad_pages(warehouse_url):
    with running_sim(markets=20, trades_per_second=1.0, data_v1=False) as sim:
        seed_universe(warehouse_url, sim)
        sim.set_faults(
            only="/data",
            rate_storm=0.15,
            retry_after=0,
            **{"5xx": 0.15},
            malformed=0.1,
            truncate=0.05,
            drift=0.15,
            hang=0.03,
        )
        result = dg.materialize(
            [trades],
            partition_key=SIM_DAY_BEFORE,
            resources=resources(
                sim,
                warehouse_url,
                page_limit=500,
                timeout_s=1.0,
                max_attempts=12,
                max_backoff_s=0.2,
                payload_attempts=12,
            ),
        )
        meta = result.asset_materializations_for_node("trades")[0].metadata
        sim.set_faults()
        expected = emitted_fills(sim, end=sim.sim.world.history_start + 7200)
        assert stored_fills(warehouse_url) == expected
        assert meta["rows_inserted"].value == sum(expected.values())
        for name in ("http_429", "http_5xx", "quarantined", "timeouts", "retries"):
            assert meta[name].value > 0, name
        with psycopg.connect(warehouse_url) as conn:
            kept = conn.execute(
                "select count(*), count(*) filter (where error like '%%not valid JSON%%') from raw_payloads "
                "where quarantined and source = 'data_api' and endpoint = 'GET /v2/trades'"
            ).fetchone()
        assert kept[0] == meta["quarantined"].value and kept[1] > 0
