"""The live edge as production drives it (a live pass, then the loss-repair sensor): continuity proofs, a burst
deeper than the feed, the loss repair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage.ledger import floor_minute
from pm_assets.coverage.ledger_refresh import build_ledger_rows
from pm_assets.resources.clob import ClobClient
from pm_assets.trades.live_edge import CURSOR
from pm_sensors.alerts.delivery import DeliverySettings
from pm_sensors.ingestion.trade_edge import trade_loss_repair_job, trade_loss_repair_sensor
from pm_sensors.live.driver import LiveDriver
from pm_sim.testing import running_sim
from tests import loopback
from tests.support.trades import emitted_fills, resources, seed_universe, stored_fills


def _tick(instance, res):
    """One pass of the live driver, then one evaluation of the sensor that launches loss repairs."""
    driver = LiveDriver(res["warehouse"], res["data_api"], ClobClient(), DeliverySettings(), tasks=())
    driver.pass_once()
    return trade_loss_repair_sensor(
        dg.build_sensor_context(
            instance=instance,
            resources={"warehouse": res["warehouse"]},
            sensor_name="trade_loss_repair_sensor",
        )
    )


def _cursor(url: str) -> tuple[datetime | None, dict]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select complete_through, value from ingestion_cursors where name = %s", (CURSOR,)
        ).fetchone()


def _newest_rows(sim) -> list[str]:
    return loopback.get(sim.admin_url + "/emitted/trades", params={"rows": 1}).json()["rows"]


def test_burst_deeper_than_the_feed_opens_a_loss_with_the_true_interval_and_is_repaired(warehouse_url):
    with running_sim(markets=20, trades_per_second=2.0, data_v1=False) as sim:
        seed_universe(warehouse_url, sim)
        res = resources(sim, warehouse_url, page_limit=100)
        with dg.instance_for_test() as instance:
            first = _tick(instance, res)
            assert isinstance(first, dg.SkipReason)
            complete0, value0 = _cursor(warehouse_url)
            frontier0 = value0["frontier_s"]
            assert value0["last_poll"]["proven"] and frontier0 == int(_newest_rows(sim)[0].split("|")[6])
            assert complete0 == datetime.fromtimestamp(frontier0, UTC)
            start = frontier0 - 600  # the first poll covers the default lookback before the newest fill

            sim.advance(900)
            sim.set_faults(feed_cap=300)
            second = _tick(instance, res)
            assert isinstance(second, dg.RunRequest)
            burst = _newest_rows(sim)
            with psycopg.connect(warehouse_url) as conn:
                loss = conn.execute(
                    "select id, interval_start, interval_end, repaired_at, reason from trade_loss_events"
                ).fetchall()
                beat = conn.execute(
                    "select detail->>'ok' from heartbeats where part = 'trade_poll'"
                ).fetchone()
            assert beat == ("true",)
            assert len(loss) == 1 and loss[0][3] is None and loss[0][4] == "feed_end"
            assert loss[0][1] == datetime.fromtimestamp(frontier0, UTC)
            assert loss[0][2] == datetime.fromtimestamp(int(burst[299].split("|")[6]), UTC)
            assert _cursor(warehouse_url)[0] == complete0  # held back: the gap is not proven
            assert stored_fills(warehouse_url) != emitted_fills(sim, start=start)

            sim.set_faults()
            repair = trade_loss_repair_job.execute_in_process(resources=res)
            assert repair.success
            with psycopg.connect(warehouse_url) as conn:
                repaired = conn.execute("select repaired_at, repair from trade_loss_events").fetchone()
            assert repaired[0] is not None and repaired[1]["rows_inserted"] > 0
            complete1, value1 = _cursor(warehouse_url)
            assert complete1 == datetime.fromtimestamp(value1["frontier_s"], UTC) > complete0
            assert stored_fills(warehouse_url) == emitted_fills(sim, start=start)

            third = _tick(instance, res)  # nothing new: proven again, no new loss
            assert isinstance(third, dg.SkipReason)
            with psycopg.connect(warehouse_url) as conn:
                assert conn.execute("select count(*) from trade_loss_events").fetchone()[0] == 1
                frontier = datetime.fromtimestamp(value1["frontier_s"], UTC)
                rows, _ = build_ledger_rows(
                    conn, frontier + timedelta(minutes=2), timedelta(hours=3), timedelta(minutes=1)
                )
            feed = {minute: state for source, minute, state, _, _ in rows if source == "trade_feed"}
            judged = {m: s for m, s in feed.items() if m < floor_minute(frontier)}
            burst_minutes = {m for m in judged if loss[0][1] - timedelta(minutes=1) < m < loss[0][2]}
            assert burst_minutes and all(judged[m] == "repaired" for m in burst_minutes)
            assert all(state == "covered" for m, state in judged.items() if m not in burst_minutes), judged
