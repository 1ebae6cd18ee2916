"""The production pipeline driven in-process against pm_sim: live passes through `live_pass` (what the live
run does on each wake), sensors through `dg.build_sensor_context`, jobs through `execute_in_process`, the
dead-man's switch through `deadman.evaluate` with the real notifier. A test calls the `tick_*` in a loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from pm_assets.coverage import deadman
from pm_assets.coverage.ledger_refresh import build_ledger_rows
from pm_assets.coverage.status import StatusThresholds
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.alerts.delivery_resource import AlertDeliveryResource
from pm_sensors.coverage.deadman_sensor import _notify
from pm_sensors.ingestion.trade_edge import trade_loss_repair_job, trade_loss_repair_sensor
from pm_sensors.live.driver import LiveDriver
from pm_sensors.live.live_pass import LivePassSettings
from tests import loopback
from tests.waiting import wait_for

# A bound on a hang, not on how long a request may take on a busy machine.
HANG_S = 120.0
CLI = str(Path(sys.executable).with_name("pm-intel"))


def cli_status(url: str, **env: str) -> dict:
    """`pm-intel status --json` in a subprocess (the real CLI); its exit code must agree with its verdict."""
    done = subprocess.run(
        [CLI, "status", "--json"],
        env={**os.environ, "DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=HANG_S,
    )
    report = json.loads(done.stdout)
    assert done.returncode == {"green": 0, "amber": 1, "red": 2}[report["overall"]], done.stderr
    return report


def sim_now(sim) -> datetime:
    return datetime.fromtimestamp(loopback.get(sim.admin_url + "/state", timeout=HANG_S).json()["now"], UTC)


class Pipeline:
    """One warehouse, one sim, one Dagster instance; sensor cursors carried between ticks like the daemon does."""

    def __init__(self, url: str, sim, instance: dg.DagsterInstance, thresholds: StatusThresholds):
        self.url, self.sim, self.instance, self.thresholds = url, sim, instance, thresholds
        self.resources = {
            "data_api": DataApiClient(base_url=sim.data_url, page_limit=100),
            "warehouse": WarehouseResource(database_url=url),
            "alert_delivery": AlertDeliveryResource(
                tick_budget_s=3.0, request_timeout_s=1.0, attempts_per_tick=1, allow_private_webhooks=True
            ),
        }
        self.cursors: dict[str, str | None] = {}
        self.driver = LiveDriver(
            self.resources["warehouse"],
            self.resources["data_api"],
            ClobClient(base_url=sim.clob_url),
            self.resources["alert_delivery"].settings(),
            settings=LivePassSettings(feed_retries=0),
            tasks=(),
        )

    def _tick(self, sensor, name: str, keys: tuple[str, ...]):
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursors.get(name),
            sensor_name=name,
            resources={k: self.resources[k] for k in keys},
        )
        result = sensor(context)
        self.cursors[name] = context.cursor
        return result

    def tick_trade_edge(self):
        """One live pass (the live run's work on a wake), then one evaluation of trade_loss_repair_sensor (a
        RunRequest asks for `run_repair`, as the daemon would run)."""
        self.pass_once()
        return self._tick(trade_loss_repair_sensor, "trade_loss_repair_sensor", ("warehouse",))

    def pass_once(self):
        """One pass of the live driver, as the live run does it on a wake (heartbeats included), with the insider
        evaluation left out: these tests plant their signal rows by hand (`flag_newest_trade`), and a real
        evaluation would remove a row its rules do not produce."""
        with mock.patch("pm_sensors.live.live_pass.EVALUATORS", []):
            return self.driver.pass_once()

    def run_repair(self) -> dg.ExecuteInProcessResult:
        return trade_loss_repair_job.execute_in_process(
            resources={k: self.resources[k] for k in ("data_api", "warehouse")}, instance=self.instance
        )

    def tick_alerts(self):
        """The delivery step of a live pass alone."""
        report = self.driver.deliverer.tick(self.driver.state.alert_cursor)
        self.driver.state.alert_cursor = report.cursor
        return report

    def deadman(self, now: datetime | None = None) -> list[deadman.Transition]:
        with psycopg.connect(self.url) as conn:
            return deadman.evaluate(conn, now or datetime.now(UTC), self.thresholds, _notify)

    def deadman_events(self) -> list[tuple[str, str, bool]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute("select part, kind, notified from deadman_events order by id").fetchall()

    def ledger(
        self,
        source: str,
        now: datetime,
        lookback: timedelta = timedelta(hours=3),
        settle: timedelta = timedelta(),
    ) -> dict[datetime, tuple[str, dict]]:
        """The ledger rows the coverage_ledger asset would write for one source, judged at `now`."""
        with psycopg.connect(self.url) as conn:
            rows, _ = build_ledger_rows(conn, now, lookback, settle)
        return {minute: (state, detail) for src, minute, state, detail, _ in rows if src == source}


def gap_intervals(ledger: dict[datetime, tuple[str, dict]], state: str) -> set[tuple[datetime, datetime]]:
    """Distinct exact gap intervals (from the evidence JSON) over the minutes in `state`."""
    out = set()
    for minute_state, detail in ledger.values():
        if minute_state == state:
            for gap in detail.obj.get("gaps", []) if hasattr(detail, "obj") else detail.get("gaps", []):
                out.add((datetime.fromisoformat(gap["start"]), datetime.fromisoformat(gap["end"])))
    return out


def add_rule(url: str, name: str, signal_type: str, webhook: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into alert_rules (name, signal_type, filters, destination_kind, webhook_url) "
            "values (%s, %s, '{}', 'json', %s)",
            (name, signal_type, webhook),
        )


def flag_newest_trade(url: str, n: int) -> str:
    """A fresh-wallet signal on the newest stored fill (standing in for the insider assets: the delivery and
    health path under test starts at the signal row)."""
    with psycopg.connect(url) as conn:
        fill_key, traded_at, wallet, cid, token, side, price, size = conn.execute(
            "select fill_key, traded_at, wallet, condition_id, token_id, side, price, size from trades "
            "order by ingested_at desc, traded_at desc limit 1"
        ).fetchone()
        key = hashlib.sha1(f"e2e|{n}|{fill_key}".encode()).hexdigest()[:20]
        conn.execute(
            "insert into fresh_wallet_trades (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side, "
            "price, usdc_size, wallet_age_hours, prior_trade_count, risk_score, evidence) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1.0, 0, 0.9, %s)",
            (
                key,
                fill_key,
                traded_at,
                wallet,
                cid,
                token,
                side,
                price,
                price * size,
                Jsonb({"summary": f"e2e flagged fill {n}"}),
            ),
        )
    return key


def wait_until(predicate, what: str, step=None, pause_s: float = 0.05, hang_s: float = HANG_S, context=None):
    """Poll (running `step` between polls) until predicate() holds; only a hang (`hang_s`) fails it."""
    return wait_for(predicate, what, step=step, pause_s=pause_s, hang_s=hang_s, context=context)
