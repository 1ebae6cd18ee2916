"""The alert delivery engine: new signal rows -> matching rules -> deliveries -> webhooks, and daily digests.

One `tick()` does bounded work (a batch of rows per signal table, a batch of posts, a time budget) so a
sensor evaluation stays well under Dagster's 60 s limit. Deliveries are rows in alert_deliveries, unique
per (rule, signal table, signal key): a signal is posted at most once per rule however often ticks re-run.
Posting leases rows first and records posted rows as the batch goes (every RECORD_EVERY posts or
RECORD_EVERY_S) and, however the loop ends, before it returns: only a process killed outright between a POST
and its record posts a row again after the lease (at-least-once only in that case). A row that fails in any
way is recorded as failed with a masked reason and the batch goes on.

Budgets: a rule with daily_budget N posts at most N deliveries per UTC day (pending, delivered or failed
count); later matches are stored as `over_budget`. At the first tick after the UTC day ends, one digest per
(rule, day) says how many were held back, and those rows become `digested`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from pm_assets.storage import heartbeats
from pm_assets.storage.urls import mask_secrets
from pm_sensors.alerts import sql
from pm_sensors.alerts.categories import attach_categories
from pm_sensors.alerts.filters import AlertFilterError, filters_match, needs_category, validate_filters
from pm_sensors.alerts.messages import digest_message, render_payload, signal_message
from pm_sensors.alerts.sources import SOURCES, SignalSource, source_for
from pm_sensors.alerts.targets import CheckedTarget, WebhookTargetError, check_webhook_target
from pm_sensors.alerts.webhook import PostOutcome, post_webhook, webhook_client

log = logging.getLogger(__name__)

# Yields an autocommit connection: each step runs in its own explicit transaction, none spans a POST.
Connect = Callable[[], AbstractContextManager[psycopg.Connection]]
HEARTBEAT_PART = "alert_delivery"
RECORD_EVERY = 20  # posted deliveries recorded at least this often...
RECORD_EVERY_S = 0.5  # ...and at least this often, in seconds


@dataclass(frozen=True)
class DeliverySettings:
    scan_batch: int = 500  # new signal rows read per table per tick
    send_batch: int = 200  # deliveries posted per tick
    tick_budget_s: float = 20.0  # stop starting posts after this long
    request_timeout_s: float = 10.0
    attempts_per_tick: int = 3  # quick retries inside one tick
    max_attempts: int = 8  # after this many, a delivery is `failed`
    max_backoff_s: float = 900.0  # between ticks: min(max_backoff, 5 s * 2^attempts), or Retry-After
    lookback_s: float = 300.0  # late-commit sweep window, and where a first run starts
    lease_s: float = 120.0
    allow_private: bool | None = None  # None: PM_INTEL_ALLOW_PRIVATE_WEBHOOKS


@dataclass
class TickReport:
    cursor: dict[str, list[str]]
    scanned: int = 0
    queued: int = 0
    over_budget: int = 0
    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    digests_created: int = 0
    digests_delivered: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "cursor"}


class AlertDeliverer:
    """Plain class around one warehouse: the sensor, the bench and the tests drive `tick()`."""

    def __init__(
        self,
        connect: Connect,
        settings: DeliverySettings | None = None,
        *,
        client: httpx.Client | None = None,
        client_factory: Callable[[], httpx.Client] = webhook_client,
        sleep: Callable[[float], None] = time.sleep,
        resolver=None,
        heartbeat_part: str | None = HEARTBEAT_PART,
    ):
        self.connect = connect
        # None for a deliverer that must not beat `alert_delivery` (a test or benchmark beside the live run): only
        # the live run's delivery may keep that heartbeat fresh, or the dead-man's switch would never see it stop.
        self.heartbeat_part = heartbeat_part
        self.settings = settings or DeliverySettings()
        self._client = client  # one client for every target (tests); else one per host from client_factory
        self._client_factory = client_factory
        self._sleep = sleep
        self._resolver = resolver

    def tick(self, cursor: Mapping[str, Any] | None = None, *, run_id: str | None = None) -> TickReport:
        started = time.monotonic()
        report = TickReport(cursor={k: list(v) for k, v in (cursor or {}).items()})
        deadline = started + self.settings.tick_budget_s
        with self.connect() as conn:
            self.enqueue_new_signals(conn, report)
            self.create_digests(conn, report)
            self.send_due(conn, report, "alert_deliveries", self._client, deadline)
            self.send_due(conn, report, "alert_digests", self._client, deadline)
            if self.heartbeat_part is not None:
                detail = {**report.summary(), "tick_s": round(time.monotonic() - started, 3)}
                with conn.transaction():
                    heartbeats.beat(conn, self.heartbeat_part, detail, run_id)
        return report

    # -- matching ------------------------------------------------------------------------------------

    def enqueue_new_signals(self, conn: psycopg.Connection, report: TickReport) -> None:
        with conn.transaction():
            rules = sql.enabled_rules(conn)
            tables = [s.table for s in SOURCES] + sorted({s.ingested.table for s in SOURCES if s.ingested})
            columns = sql.table_columns(conn, tables)
            now = sql.db_now(conn)
        by_source: dict[str, list[dict]] = {}
        for rule in rules:
            source = source_for(rule["signal_type"])
            if source is None:
                continue
            try:
                rule["filters"] = validate_filters(source.signal_type, rule["filters"])
            except AlertFilterError as exc:
                report.errors.append(f"rule {rule['name']!r}: {exc}")
                continue
            by_source.setdefault(source.table, []).append(rule)
        for source in SOURCES:
            if source.table not in columns:
                continue  # its migration has not run yet
            with conn.transaction():
                self._enqueue_source(conn, source, columns, by_source.get(source.table, []), now, report)

    def _enqueue_source(self, conn, source: SignalSource, columns, rules, now: datetime, report: TickReport):
        lookback = timedelta(seconds=self.settings.lookback_s)
        stored = report.cursor.get(source.table)
        after = (datetime.fromisoformat(stored[0]), stored[1]) if stored else (now - lookback, "")
        table_cols = columns[source.table]
        rows = sql.new_signals(conn, source, table_cols, columns, after, self.settings.scan_batch)
        if rows:
            report.cursor[source.table] = [rows[-1]["detected_at"].isoformat(), rows[-1]["signal_key"]]
        if rules:
            since = min(after[0], now) - lookback
            rows += sql.late_signals(
                conn, source, table_cols, columns, since, after, self.settings.scan_batch
            )
        elif not stored:
            report.cursor[source.table] = [after[0].isoformat(), after[1]]
        report.scanned += len(rows)
        if rows and any(needs_category(rule["filters"]) for rule in rules):
            attach_categories(conn, rows)
        budgets: dict[int, int] = {}
        day_start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        # Skipping pairs already stored keeps the budget count exact when rows are scanned again.
        done = (
            sql.existing_deliveries(conn, source.table, [r["signal_key"] for r in rows])
            if rows and rules
            else set()
        )
        items: list[dict[str, Any]] = []
        for row in rows:
            for rule in rules:
                rule_id = rule["rule_id"]
                if (rule_id, row["signal_key"]) in done or row["detected_at"] < rule["created_at"]:
                    continue
                if not filters_match(rule["filters"], row, source):
                    continue
                done.add((rule_id, row["signal_key"]))
                status = "pending"
                if rule["daily_budget"] is not None:
                    if rule_id not in budgets:
                        sql.lock_rule_budget(conn, rule_id)
                        budgets[rule_id] = sql.sent_today(conn, rule_id, day_start)
                    if budgets[rule_id] >= rule["daily_budget"]:
                        status = "over_budget"
                    else:
                        budgets[rule_id] += 1
                payload = render_payload(
                    rule["destination_kind"],
                    signal_message(source.signal_type, source.table, row, title=source.label),
                )
                items.append(
                    {
                        "rule_id": rule_id,
                        "signal_key": row["signal_key"],
                        "status": status,
                        "payload": payload,
                        "upstream_at": row["upstream_at"],
                        "ingested_at": row["ingested_at"],
                        "signal_at": row["detected_at"],
                    }
                )
        for status in sql.insert_deliveries(conn, source.table, items):
            if status == "over_budget":
                report.over_budget += 1
            else:
                report.queued += 1

    # -- digests -------------------------------------------------------------------------------------

    def create_digests(self, conn: psycopg.Connection, report: TickReport) -> None:
        with conn.transaction():
            now = sql.db_now(conn)
            day_start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            for group in sql.held_back_before(conn, day_start):
                examples = [_summary_of(p) for p in group["examples"] or []]
                message = digest_message(
                    group["name"],
                    group["signal_type"],
                    group["day"],
                    group["held_back"],
                    group["daily_budget"] or 0,
                    [e for e in examples if e],
                )
                payload = render_payload(group["destination_kind"], message)
                if sql.insert_digest(
                    conn, group["rule_id"], group["day"], group["held_back"], payload, group["ids"]
                ):
                    report.digests_created += 1

    # -- posting -------------------------------------------------------------------------------------

    def send_due(
        self,
        conn: psycopg.Connection,
        report: TickReport,
        table: str,
        client: httpx.Client | None,
        deadline: float,
    ) -> None:
        """Post the due rows of `table`. One row's failure (a URL httpx refuses, any exception) is that row's
        `failed` result, never the batch's; posted rows are recorded as the batch goes and, however the loop
        ends (an exception, a stop), before it returns, so a failure later in the batch never re-posts them
        when their lease expires."""
        with conn.transaction():
            claimed = sql.claim_pending(conn, table, self.settings.send_batch, self.settings.lease_s)
        if not claimed:
            return
        targets: dict[str, CheckedTarget | WebhookTargetError] = {}
        down: dict[str, tuple[datetime, str]] = {}  # url -> (retry at, error): skip the rest this tick
        clients: dict[tuple[str, int], httpx.Client] = {}
        unrecorded: list[dict[str, Any]] = []
        flushed_at = time.monotonic()

        def record() -> None:
            nonlocal flushed_at
            if unrecorded:
                with conn.transaction():
                    sql.record_attempts(conn, table, unrecorded)
                unrecorded.clear()
            flushed_at = time.monotonic()

        try:
            for item in claimed:
                try:
                    result, posted = self._deliver_one(item, targets, down, clients, client, deadline)
                except Exception as exc:  # one row's surprise is that row's failure; the loop goes on
                    reason = mask_secrets(f"{type(exc).__name__}: {exc}")[:300]
                    result, posted = _result(item, "failed", 0, f"not delivered: {reason}"), False
                unrecorded.append(result)
                self._count(report, table, result)
                # Posted rows are recorded in small groups as the batch goes, and whatever is left in the
                # `finally` below, however the loop ends: only a process killed outright between a POST and its
                # record (at most RECORD_EVERY posts or RECORD_EVERY_S) posts a row again after its lease.
                if posted and (
                    len(unrecorded) >= RECORD_EVERY or time.monotonic() - flushed_at >= RECORD_EVERY_S
                ):
                    record()
        finally:
            try:
                record()
            finally:
                for own in clients.values():
                    own.close()

    def _deliver_one(
        self,
        item: dict[str, Any],
        targets: dict[str, CheckedTarget | WebhookTargetError],
        down: dict[str, tuple[datetime, str]],
        clients: dict[tuple[str, int], httpx.Client],
        shared_client: httpx.Client | None,
        deadline: float,
    ) -> tuple[dict[str, Any], bool]:
        """(the row's result, whether a request went out)."""
        url = item["webhook_url"]
        if url not in targets:  # resolved once per tick: the posts below connect only to these addresses
            targets[url] = self._check_target(url)
        target = targets[url]
        if isinstance(target, WebhookTargetError):
            if not target.transient:
                return _result(item, "failed", 0, f"webhook target rejected: {target}"), False
            # DNS trouble may pass: count it as a failed attempt and retry later
            outcome = PostOutcome(False, 1, None, f"webhook target unusable: {target}", retryable=True)
            return self._outcome_result(item, outcome, datetime.now(UTC)), False
        if url in down:
            return _result(item, "pending", 0, down[url][1], next_attempt_at=down[url][0]), False
        if time.monotonic() >= deadline:
            return _result(item, "pending", 0, None, next_attempt_at=datetime.now(UTC)), False
        # One client per host: a pooled connection opened (and certificate-checked) for one name is never
        # reused for another name that happens to share its address.
        client = shared_client
        if client is None:
            key = (target.host, target.port)
            if key not in clients:
                clients[key] = self._client_factory()
            client = clients[key]
        attempted_at = datetime.now(UTC)
        outcome = post_webhook(
            client,
            target,
            item["payload"],
            max_attempts=self.settings.attempts_per_tick,
            deadline=deadline,
            timeout_s=self.settings.request_timeout_s,
            sleep=self._sleep,
        )
        result = self._outcome_result(item, outcome, attempted_at)
        if result["status"] == "pending":
            down[url] = (result["next_attempt_at"], outcome.error or "")
        return result, True

    @staticmethod
    def _count(report: TickReport, table: str, r: dict[str, Any]) -> None:
        if r["status"] == "delivered":
            if table == "alert_deliveries":
                report.delivered += 1
            else:
                report.digests_delivered += 1
        elif r["status"] == "failed":
            report.failed += 1
            log.warning("alert %s %s failed: %s", table, r["id"], r["error"])
        elif r["attempts"]:
            report.retrying += 1

    def _check_target(self, url: str) -> CheckedTarget | WebhookTargetError:
        try:
            return check_webhook_target(
                url, allow_private=self.settings.allow_private, resolver=self._resolver
            )
        except WebhookTargetError as exc:
            return exc

    def _outcome_result(self, item: dict, outcome: PostOutcome, attempted_at: datetime) -> dict[str, Any]:
        if outcome.ok:
            return _result(
                item,
                "delivered",
                outcome.attempts,
                None,
                outcome.status_code,
                attempted_at,
                delivered_at=datetime.now(UTC),
            )
        total = item["attempts"] + outcome.attempts
        error = mask_secrets(outcome.error or "unknown error")
        if not outcome.retryable or total >= self.settings.max_attempts:
            if outcome.retryable:
                error = f"gave up after {total} attempts: {error}"
            return _result(item, "failed", outcome.attempts, error, outcome.status_code, attempted_at)
        wait = min(self.settings.max_backoff_s, 5.0 * 2 ** max(0, total - 1))
        if outcome.retry_after_s is not None:
            wait = max(min(outcome.retry_after_s, self.settings.max_backoff_s), 0.0)
        return _result(
            item,
            "pending",
            outcome.attempts,
            error,
            outcome.status_code,
            attempted_at,
            next_attempt_at=datetime.now(UTC) + timedelta(seconds=wait),
        )


def _result(
    item: dict,
    status: str,
    attempts: int,
    error: str | None,
    status_code: int | None = None,
    attempted_at: datetime | None = None,
    *,
    delivered_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": item["id"],
        "status": status,
        "attempts": attempts,
        "error": error,
        "status_code": status_code,
        "attempted_at": attempted_at,
        "delivered_at": delivered_at,
        "next_attempt_at": next_attempt_at,
    }


def _summary_of(payload: Mapping[str, Any] | None) -> str | None:
    if not payload:
        return None
    text = payload.get("summary") or payload.get("text") or payload.get("content")
    return str(text)[:200] if text else None
