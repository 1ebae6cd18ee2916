"""The live driver: the one production caller of `live_pass`, and the home of the periodic work, in one
long-lived run (`live_job`, kept alive by `live_supervisor_sensor`).

Wakes: once at the run's start (to catch up), then the stream consumer's `NOTIFY pm_intel_trade_ticks` (sent in the transaction that stores trade ticks,
payload the newest tick's epoch second) or, without one, every `poll_interval_s` (the polling path when the
stream is down or quiet). Periodic tasks (periodic.py) run on threads of their own so a slow book snapshot
never delays a pass. Whatever a pass or a task writes is reported to Dagster as a runless materialization of
the asset that owns the table, summed over at most a minute, so the UI shows every write without a run a
minute in the run history.
"""

from __future__ import annotations

import json
import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql

from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage import heartbeats
from pm_assets.storage.urls import libpq_url, mask_secrets
from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings
from pm_sensors.stream.persistence import TRADE_TICKS_CHANNEL

from .live_pass import FeedPollFailed, LivePassSettings, LiveReport, LiveState, live_pass
from .periodic import CHECKS_EVERY_S, LIVE_CHECKS, TASKS, LiveCheck, LiveResources, PeriodicTask

CHANNEL = TRADE_TICKS_CHANNEL  # the consumer notifies it when it stores trade ticks
HEARTBEAT_PART = "live_driver"
TRADE_POLL_PART = "trade_poll"  # read by `pm-intel status` and the dead-man's switch
REPORT_EVERY_S = 60.0
STOP_CHECK_S = 0.5  # how soon a stop request ends a wait
log = logging.getLogger("pm_intel.live")


def metadata_value(value: Any) -> Any:
    """A value Dagster's metadata accepts (numbers, text, JSON), never None."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict | list | tuple):
        return dg.MetadataValue.json(json.loads(json.dumps(value, default=str)))
    return str(value)


class AssetReporter:
    """Sums each asset's metadata (counts add up, other values keep the latest) between reports, and reports one
    runless materialization per asset and partition at most every `every_s`. Thread-safe: tasks add from their
    threads."""

    def __init__(
        self, instance: dg.DagsterInstance | None, run_id: str | None, every_s: float = REPORT_EVERY_S
    ):
        self.instance, self.run_id, self.every_s = instance, run_id, every_s
        self.pending: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.reported = 0
        self._lock = threading.Lock()
        self._last = time.monotonic()

    def add(self, asset: str, metadata: dict[str, Any], partition: str | None = None) -> None:
        with self._lock:
            into = self.pending.setdefault((asset, partition), {"writes": 0})
            into["writes"] += 1
            for key, value in metadata.items():
                if value is None:
                    continue
                into[key] = into.get(key, 0) + value if _is_count(key, value, into.get(key, 0)) else value

    def flush(self, force: bool = False) -> int:
        with self._lock:
            if not force and time.monotonic() - self._last < self.every_s:
                return 0
            pending, self.pending, self._last = self.pending, {}, time.monotonic()
        if self.instance is None:
            return 0
        done = 0
        for (asset, partition), metadata in pending.items():
            meta = {k: metadata_value(v) for k, v in metadata.items()}
            meta["reported_by"] = f"live_job run {self.run_id}" if self.run_id else "live driver"
            try:
                self.instance.report_runless_asset_event(
                    dg.AssetMaterialization(asset_key=asset, partition=partition, metadata=meta)
                )
                done += 1
            except Exception as exc:  # noqa: BLE001 - the UI record must not stop the live path
                log.warning(mask_secrets(f"live driver: could not report {asset}'s materialization: {exc}"))
        self.reported += done
        return done

    def report_checks(self, checks: Sequence[LiveCheck], warehouse: WarehouseResource) -> int:
        """Evaluates each check and reports it as a runless check evaluation. Reported after the materializations
        it judges (the driver flushes first), so the UI counts it as current for them. A check that cannot be
        evaluated is logged and skipped; the others go on."""
        if self.instance is None:
            return 0
        done = 0
        for check in checks:
            try:
                self.instance.report_runless_asset_event(check.evaluation(warehouse))
                done += 1
            except Exception as exc:  # noqa: BLE001 - the UI record must not stop the live path
                log.warning(mask_secrets(f"live driver: could not evaluate check {check.name}: {exc}")[:500])
        return done


class LiveDriver:
    def __init__(
        self,
        warehouse: WarehouseResource,
        data_api: DataApiClient,
        clob: ClobClient,
        delivery: DeliverySettings,
        *,
        instance: dg.DagsterInstance | None = None,
        run_id: str | None = None,
        logger: Any = None,
        poll_interval_s: float = 5.0,
        min_gap_s: float = 0.25,
        settings: LivePassSettings = LivePassSettings(),
        tasks: Sequence[PeriodicTask] = TASKS,
        checks: Sequence[LiveCheck] = LIVE_CHECKS,
        checks_every_s: float = CHECKS_EVERY_S,
    ):
        self.warehouse, self.data_api, self.settings = warehouse, data_api, settings
        self.poll_interval_s, self.min_gap_s, self.tasks = poll_interval_s, min_gap_s, tasks
        self.run_id, self.log = run_id, logger or log
        self.deliverer = AlertDeliverer(lambda: warehouse.connect(autocommit=True), delivery)
        self.state = LiveState()
        self.reporter = AssetReporter(instance, run_id)
        self.resources = LiveResources(warehouse, data_api, clob, run_id, self.log)
        self.passes, self.failures, self.woken_by_notify = 0, 0, 0
        self.task_runs: dict[str, int] = {t.name: 0 for t in tasks}
        self.task_errors: dict[str, str] = {}
        self.recent: deque[LiveReport] = deque(maxlen=200)
        self.checks, self.checks_every_s = checks, checks_every_s
        self.check_evaluations = 0
        self._first_pass = threading.Event()
        # Set once the run's first pass has been tried: the periodic tasks start then (see _task_loop).
        self.first_pass_tried = threading.Event()

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event, max_runtime_s: float = 0.0) -> dict[str, Any]:
        deadline = time.monotonic() + max_runtime_s if max_runtime_s > 0 else None
        threads = [
            threading.Thread(target=self._task_loop, args=(t, stop), name=f"live-{t.name}", daemon=True)
            for t in self.tasks
        ]
        if self.checks and self.reporter.instance is not None:
            threads.append(
                threading.Thread(target=self._check_loop, args=(stop,), name="live-checks", daemon=True)
            )
        for t in threads:
            t.start()
        # Alive before the first pass, which on a fresh warehouse reads a whole lookback of fills and may take
        # minutes on a busy machine: the supervisor must not read that as a run that never beat.
        self._touch({"starting": True})
        listener: psycopg.Connection | None = None
        failing = 0
        try:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                started = time.monotonic()
                try:
                    listener = listener if listener is not None and not listener.closed else self._listen()
                    if self.first_pass_tried.is_set():  # a new run catches up at once, then waits for a wake
                        self._wait(listener, stop, deadline)
                except psycopg.Error as exc:
                    self.log.warning(
                        f"live driver: LISTEN failed, polling meanwhile: {mask_secrets(str(exc))}"
                    )
                    listener = None
                    stop.wait(self.poll_interval_s)
                if stop.is_set():
                    break
                try:
                    self.pass_once()
                    failing = 0
                except Exception as exc:  # noqa: BLE001 - a failed pass must not end the run; the next retries
                    self.failures += 1
                    failing += 1
                    cause = exc.__cause__ if isinstance(exc, FeedPollFailed) and exc.__cause__ else exc
                    reason = mask_secrets(f"{type(cause).__name__}: {cause}")[:500]
                    self._beat({"ok": False, "error": reason, "failed_in_a_row": failing})
                    if isinstance(exc, FeedPollFailed):
                        self._beat_feed_failure(exc, reason)
                    if failing & (failing - 1) == 0:  # 1st, 2nd, 4th ... failure in a row
                        self.log.warning(f"live driver: pass failed ({failing} in a row): {reason}")
                    self.first_pass_tried.set()
                    stop.wait(min(30.0, 0.5 * 2 ** (failing - 1)))
                self.first_pass_tried.set()
                self.reporter.flush()
                stop.wait(max(0.0, self.min_gap_s - (time.monotonic() - started)))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=120)
            if listener is not None:
                listener.close()
            self.reporter.flush(force=True)
        return self.summary()

    def _listen(self) -> psycopg.Connection:
        conn = psycopg.connect(libpq_url(self.warehouse.database_url), autocommit=True)
        conn.execute(sql.SQL("listen {}").format(sql.Identifier(CHANNEL)))
        return conn

    def _wait(self, listener: psycopg.Connection, stop: threading.Event, deadline: float | None) -> None:
        """Until a trade tick is stored (a notification), the timer fires, or the driver is stopped. Ticks stored
        while the last pass ran are already queued: the next pass starts at once and serves them all. The timer
        is poll_interval_s, or feed_retry_s while the feed has not shown the newest tick's second yet."""
        retrying = self.state.feed_retries_left > 0
        until = time.monotonic() + (self.settings.feed_retry_s if retrying else self.poll_interval_s)
        if deadline is not None:
            until = min(until, deadline)
        got: list = []
        while not got and not stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return
            got = list(listener.notifies(timeout=min(left, STOP_CHECK_S), stop_after=1))
        if got:
            self.woken_by_notify += 1
            got += list(listener.notifies(timeout=0.001))  # the rest already queued: one pass serves them all
        for n in got:
            try:
                self.state.newest_tick_s = max(self.state.newest_tick_s, int(float(n.payload)))
            except ValueError:
                pass  # no target second: the pass polls once

    def pass_once(self) -> LiveReport:
        report = live_pass(
            self.warehouse,
            self.data_api,
            self.deliverer,
            self.state,
            self.settings,
            run_id=self.run_id,
            log=self.log,
            on_step=lambda step: self._touch({"last_step": step}),
        )
        self.passes += 1
        self.recent.append(report)
        trades = report.assets.get("trades", {})
        if report.fills:
            for day in report.trade_days or [datetime.now(UTC).date().isoformat()]:
                self.reporter.add("trades", trades, partition=day)
        for asset, meta in report.assets.items():
            if asset != "trades" and _changed(meta):
                self.reporter.add(asset, meta)
        for error in report.alert_errors:
            self.log.warning(error)
        for name, reason in report.skipped_signals.items():
            self.log.warning(f"live driver: {name} not evaluated: {reason}")
        self._beat({"ok": True, **report.summary(), "recent_passes": self.timings()})
        self._beat_part(TRADE_POLL_PART, {**trades}, ok=True)
        if report.alerts_delivered:
            self.log.info(f"live driver: {report.summary()}")
        self._first_pass.set()
        return report

    def _task_loop(self, task: PeriodicTask, stop: threading.Event) -> None:
        # After the first pass: until it has read the feed up to now, reconciliation and the ledger would judge
        # the minutes since the last run's poll as missing (a restart, or a first lookback that takes minutes
        # on a busy machine), and report gaps that the pass is about to close.
        while not self.first_pass_tried.wait(STOP_CHECK_S):
            if stop.is_set():
                return
        while not stop.is_set():
            started = time.monotonic()
            try:
                for asset, meta in task.work(self.resources).items():
                    self.reporter.add(asset, meta)
                self.task_runs[task.name] += 1
                self.task_errors.pop(task.name, None)
            except Exception as exc:  # noqa: BLE001 - one task's failure is logged; the next interval retries
                reason = mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
                self.task_errors[task.name] = reason
                self.log.warning(
                    f"live driver: {task.name} failed, retrying in {task.interval_s:.0f} s: {reason}"
                )
            stop.wait(max(0.0, task.interval_s - (time.monotonic() - started)))

    def _check_loop(self, stop: threading.Event) -> None:
        """The live checks every `checks_every_s`, once the first pass and each task's first round are done
        (before them the tables hold nothing this run wrote). The materializations are reported first, so an
        evaluation follows the writes it judges."""
        while not stop.is_set() and not (self._first_pass.is_set() and self._tasks_ran_once()):
            stop.wait(STOP_CHECK_S)
        while not stop.is_set():
            started = time.monotonic()
            self.reporter.flush(force=True)
            self.check_evaluations += self.reporter.report_checks(self.checks, self.warehouse)
            stop.wait(max(0.0, self.checks_every_s - (time.monotonic() - started)))

    def _tasks_ran_once(self) -> bool:
        return all(n in self.task_errors or runs > 0 for n, runs in self.task_runs.items())

    # -- what it tells -----------------------------------------------------------------------------

    def timings(self) -> dict[str, dict[str, float]]:
        """p50 / p95 seconds of each step over the recent passes (heartbeat detail, the bench)."""
        steps: dict[str, list[float]] = {}
        for r in self.recent:
            for name, seconds in r.seconds.items():
                steps.setdefault(name, []).append(seconds)
        return {
            name: {
                "n": len(v),
                "p50": round(statistics.median(v), 3),
                "p95": round(sorted(v)[min(len(v) - 1, int(0.95 * len(v)))], 3),
            }
            for name, v in steps.items()
        }

    def summary(self) -> dict[str, Any]:
        return {
            "passes": self.passes,
            "failed_passes": self.failures,
            "woken_by_notify": self.woken_by_notify,
            "asset_events_reported": self.reporter.reported,
            "check_evaluations_reported": self.check_evaluations,
            **{f"{k}_runs": v for k, v in self.task_runs.items()},
        }

    def _beat(self, detail: dict) -> None:
        self._beat_part(
            HEARTBEAT_PART, {**detail, "tasks": dict(self.task_runs), "task_errors": dict(self.task_errors)}
        )

    def _beat_feed_failure(self, exc: FeedPollFailed, reason: str) -> None:
        """The trade poll turned and read nothing: `failing_since` and `unreachable` let status turn red with
        "cannot reach the Data API since ..." instead of reading a turning loop as a healthy feed."""
        try:
            with self.warehouse.connect() as conn:
                heartbeats.beat_failure(
                    conn,
                    TRADE_POLL_PART,
                    {"error": reason},
                    attempt_started=exc.attempt_started,
                    unreachable=heartbeats.no_answer(exc),
                    run_id=self.run_id,
                )
        except Exception as beat_exc:  # noqa: BLE001 - a heartbeat must not take the driver down
            self.log.warning(f"live driver: heartbeat not written: {mask_secrets(str(beat_exc))[:200]}")

    def _touch(self, detail: dict) -> None:
        """Alive and working (between a pass's steps): the last pass's verdict stays in the heartbeat."""
        try:
            with self.warehouse.connect() as conn:
                heartbeats.touch(conn, HEARTBEAT_PART, detail, self.run_id)
        except Exception as exc:  # noqa: BLE001 - a heartbeat must not take the driver down
            self.log.warning(f"live driver: heartbeat not written: {mask_secrets(str(exc))[:200]}")

    def _beat_part(self, part: str, detail: dict, ok: bool = False) -> None:
        """`ok=True`: the part did its job (`heartbeats.beat_ok` stamps `last_ok_at`); otherwise a plain beat."""
        write = heartbeats.beat_ok if ok else heartbeats.beat
        try:
            with self.warehouse.connect() as conn:
                write(conn, part, json.loads(json.dumps(detail, default=str)), self.run_id)
        except Exception as exc:  # noqa: BLE001 - a heartbeat must not take the driver down
            self.log.warning(f"live driver: heartbeat not written: {mask_secrets(str(exc))[:200]}")


def _is_count(key: str, value: Any, before: Any) -> bool:
    """Counts add up over the reporting minute; times, ids and seconds (`newest_s`, `loss_event_id`) keep the
    latest value."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not isinstance(before, int)
        or key == "writes"
    ):
        return False
    return not key.endswith(("_s", "_ms", "_id", "_at"))


def _changed(metadata: dict[str, Any]) -> bool:
    """Whether an evaluation wrote anything (a pass that found nothing new is not a materialization)."""
    keys = (
        "rows_written",  # fresh_wallet_trades, size_anomalies
        "rows_removed",
        "clusters",  # wallet_clusters
        "replaced",
        "wallets_evaluated",  # wallet_behaviour_labels
        "trades",  # trade_risk_scores
        "wallets_aggregated",  # wallets
        "first_activity_written",
    )
    return any(isinstance(metadata.get(k), int) and metadata[k] > 0 for k in keys)
