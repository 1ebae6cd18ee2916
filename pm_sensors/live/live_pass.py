"""One live pass: the trade feed's live edge -> wallet ages -> the insider signals -> alert delivery.

The only production path from an upstream fill to a webhook. `LiveDriver` (driver.py) calls `live_pass` in its
long-lived run, woken by the stream consumer's `NOTIFY` on each stored trade tick and by a timer; the Dagster
assets (`trades`, `wallets`, the insider signal assets) are the backfill and rescan path of the same functions.
A pass returns a plain report; the driver turns it into asset events and a heartbeat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.insider_signals import EVALUATORS, watermarks_behind
from pm_assets.trades.live_edge import PollResult, poll_live_edge
from pm_assets.trades.loading import run_trade_load
from pm_assets.wallets.refresh import WalletRefreshSettings, refresh_wallets
from pm_sensors.alerts.delivery import AlertDeliverer
from pm_sensors.alerts.sources import SOURCES

ALERT_TABLES = frozenset(s.table for s in SOURCES)  # a pass delivers right after one of these gains rows


@dataclass(frozen=True)
class LivePassSettings:
    # The feed can index a fill a moment after the stream shows it: while a pass has not seen the newest tick's
    # second, the driver runs the next pass within feed_retry_s (at once on a new tick), up to feed_retries
    # times. The pass itself never sleeps: what the feed already holds is evaluated and delivered meanwhile.
    feed_retries: int = 3
    feed_retry_s: float = 0.5
    # A poll reads pages back to the frontier; a deeper gap opens a loss event that a repair run walks.
    max_pages: int = 50
    time_budget_s: float = 40.0
    lookback_s: int = 600
    # How far before each signal's watermark a pass re-reads, for fills committed late by other writers.
    signal_overlap_s: float = 10.0
    # Only the wallets the pass's new fills touched (the backlog is the periodic `wallet_ages` task's, periodic.py),
    # and a time budget: a slow Data API must not hold a pass (and its heartbeat) for minutes.
    wallets: WalletRefreshSettings = WalletRefreshSettings(
        max_first_activity_lookups=50, only_touched=True, lookup_budget_s=30.0
    )


class _DebugLog:
    """The signals' per-run line goes to debug: a pass runs every few seconds; the report has the figures."""

    def __init__(self, log: Any):
        self.log = log

    def info(self, msg: str) -> None:
        debug = getattr(self.log, "debug", None)
        if debug is not None:
            debug(msg)

    def warning(self, msg: str) -> None:  # e.g. a saved threshold refused: the user must see it
        (getattr(self.log, "warning", None) or logging.getLogger(__name__).warning)(msg)


class FeedPollFailed(RuntimeError):
    """The pass could not read the trade feed (its cause says why). The driver records it on the `trade_poll`
    heartbeat with `attempt_started`, so `pm-intel status` can say since when nothing got through."""

    def __init__(self, attempt_started: datetime):
        super().__init__("the trade feed could not be read")
        self.attempt_started = attempt_started


@dataclass
class LiveReport:
    """What one pass read, wrote and skipped, per asset (its metadata, as a run of that asset would report)."""

    fills: int = 0
    wallet_ages: int = 0
    signal_rows: int = 0
    alerts_delivered: int = 0
    trade_days: list[str] = field(default_factory=list)  # the trades partitions the new fills fell in
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    alert_errors: list[str] = field(default_factory=list)
    skipped_signals: dict[str, str] = field(default_factory=dict)  # signal asset -> why it was not evaluated
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "fills": self.fills,
            "wallet_ages": self.wallet_ages,
            "signal_rows": self.signal_rows,
            "alerts_delivered": self.alerts_delivered,
            **{f"{k}_s": round(v, 3) for k, v in self.seconds.items()},
            **({"skipped_signals": self.skipped_signals} if self.skipped_signals else {}),
        }


@dataclass
class LiveState:
    """What passes carry from one to the next: the delivery cursor, the newest tick second the feed should show,
    and how many prompt re-polls are still owed to it."""

    alert_cursor: dict | None = None
    newest_tick_s: int = 0
    feed_retries_left: int = 0
    retry_target_s: int = 0

    def feed_seen(self, newest_s: int | None, retries: int) -> None:
        """After a poll: owe `retries` prompt re-polls to a tick second the feed does not show yet, one fewer on
        each poll that still misses it, none once it shows."""
        if newest_s is not None and newest_s >= self.newest_tick_s:
            self.feed_retries_left = 0
        elif self.retry_target_s != self.newest_tick_s:
            self.retry_target_s, self.feed_retries_left = self.newest_tick_s, retries
        else:
            self.feed_retries_left = max(0, self.feed_retries_left - 1)


def live_pass(
    warehouse: WarehouseResource,
    data_api: DataApiClient,
    deliverer: AlertDeliverer,
    state: LiveState,
    settings: LivePassSettings = LivePassSettings(),
    *,
    run_id: str | None = None,
    log: Any = None,
    on_step: Callable[[str], None] | None = None,
) -> LiveReport:
    """`on_step(name)` after each step (feed, wallets, signals, alerts): the driver beats there, so a long pass
    (the first one: a whole lookback of fills, thousands of wallets) reads as working, not hung."""
    report = LiveReport()
    attempt_started = datetime.now(UTC)
    try:
        with _timed(report, "feed", on_step):
            poll_meta = _poll_feed(warehouse, data_api, settings, state, run_id)
    except Exception as exc:
        raise FeedPollFailed(attempt_started) from exc
    report.fills = int(poll_meta.get("rows_inserted", 0))
    report.assets["trades"] = poll_meta
    report.trade_days = poll_meta.pop("days", [])
    delivered = False

    def deliver() -> None:
        nonlocal delivered
        with _timed(report, "alerts", on_step):
            tick = deliverer.tick(state.alert_cursor, run_id=run_id)
        state.alert_cursor = tick.cursor
        report.alerts_delivered += tick.delivered
        report.alert_errors += tick.errors
        delivered = True

    if report.fills or _signals_behind(warehouse):
        with _timed(report, "wallets", on_step):
            wallets = refresh_wallets(data_api, warehouse.connect, settings.wallets, run_id)
        report.wallet_ages = int(wallets["first_activity_written"])
        report.assets["wallets"] = wallets
        report.signal_rows = evaluate_insider_signals(warehouse, settings, report, log, on_alert_rows=deliver)
        if on_step is not None:
            on_step("signals")
    if not delivered:  # due retries and digests, and signal rows other writers stored
        deliver()
    return report


@contextmanager
def _timed(report: LiveReport, step: str, on_step: Callable[[str], None] | None = None) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        report.seconds[step] = report.seconds.get(step, 0.0) + time.monotonic() - started
    if on_step is not None:  # after a step that completed: the driver beats there
        on_step(step)


def _poll_feed(
    warehouse: WarehouseResource,
    data_api: DataApiClient,
    s: LivePassSettings,
    state: LiveState,
    run_id: str | None,
) -> dict[str, Any]:
    """New fills from the live edge, in one poll; notes on `state` whether the newest tick's second was in it.
    Returns the trades metadata."""
    outcome = run_trade_load(
        data_api,
        warehouse.connect,
        lambda session, writer: poll_live_edge(
            session, writer, max_pages=s.max_pages, time_budget_s=s.time_budget_s, lookback_s=s.lookback_s
        ),
        run_id=run_id,
    )
    poll: PollResult = outcome.value
    state.feed_seen(poll.newest_s, s.feed_retries)
    inserted = int(outcome.metadata.get("rows_inserted", 0))
    totals = {k: v for k, v in outcome.metadata.items() if isinstance(v, int) and not isinstance(v, bool)}
    days = []
    if inserted and poll.newest_s is not None:
        oldest = poll.oldest_s if poll.oldest_s is not None else poll.newest_s
        first = datetime.fromtimestamp(max(oldest, poll.frontier_before_s or oldest), UTC).date()
        last = datetime.fromtimestamp(poll.newest_s, UTC).date()
        days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    return {**totals, "rows_inserted": inserted, **poll.as_metadata(), "days": days}


def _signals_behind(warehouse: WarehouseResource) -> bool:
    """Fills some other writer stored (a backfill, a loss repair) that the signals have not evaluated yet."""
    with warehouse.connect() as conn:
        return bool(watermarks_behind(conn)[1])


def evaluate_insider_signals(
    warehouse: WarehouseResource,
    settings: LivePassSettings,
    report: LiveReport,
    log: Any,
    on_alert_rows: Callable[[], None] | None = None,
) -> int:
    """Each insider signal in job order. Its config is left empty, so the evaluation resolves the saved thresholds
    (override store, environment, default) as a sensor-launched run does, and saves nothing; a signal that still
    fails on its thresholds is skipped with the reason in the report, and the others and delivery go on.
    `on_alert_rows` runs right after an evaluation that wrote rows alerts read, before the signals after it:
    an alert waits for the delivery, not for the rest of the pass."""
    quiet = _DebugLog(log)
    rows = 0
    for name, evaluate, config_class in EVALUATORS:
        kwargs: dict[str, Any] = {"overlap": timedelta(seconds=settings.signal_overlap_s)}
        if config_class is not None:
            kwargs["config"] = config_class()
        try:
            with _timed(report, f"signal:{name}"):
                result = evaluate(quiet, warehouse, **kwargs)
        except dg.Failure as exc:
            report.skipped_signals[name] = str(exc.description or exc)
            continue
        meta = {k: getattr(v, "value", v) for k, v in (result.metadata or {}).items()}
        report.assets[name] = meta
        written = int(meta.get("rows_written", meta.get("clusters", 0)) or 0)
        rows += written
        if written and name in ALERT_TABLES and on_alert_rows is not None:
            on_alert_rows()
    return rows
