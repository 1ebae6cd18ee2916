"""The insider fast lane: a stored `last_trade_price` tick -> the trade feed's live edge -> wallet ages -> the
insider signals -> their alerts, inside the stream consumer's run, within seconds of the trade.

Why: a stream tick has no wallet, so the insider signals need the Data API fill. The scheduled path (the edge
sensor every 5 s, the insider signal sensor every 60 s plus a run launch, the alert sensor every 5 s) takes tens
of seconds; a user acting on a fresh wallet's entry needs it in a few. The fast lane calls the same plain
functions the assets call (with the dashboard's threshold overrides as their config), so there is one
implementation. The scheduled path stays as the safety net and the record in the
Dagster UI: both take the same locks (one live-edge poll at a time, one evaluation per signal table at a time)
and write by the same keys, so neither duplicates a fill, a signal or an alert.

A failed pass is logged with its reason and retried at the next tick; nothing it skipped is lost, because the
scheduled path evaluates from the same watermarks.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.insider_sensor import EVALUATORS, LANE_PART, insider_run_config, watermarks_behind
from pm_assets.storage import heartbeats
from pm_assets.storage.urls import mask_secrets
from pm_assets.trades.live_edge import poll_live_edge
from pm_assets.trades.loading import run_trade_load
from pm_assets.wallets.refresh import WalletRefreshSettings, refresh_wallets
from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings

REPORT_EVERY_S = 60.0
_SUMMED_NAMES = {"new_trades": "trades_evaluated"}
log = logging.getLogger(__name__)


class _DebugLog:
    """Each signal's per-run line at debug level: the lane runs every second or so; its heartbeat has the figures."""

    def info(self, msg: str) -> None:
        log.debug(msg)


_QUIET = _DebugLog()


@dataclass(frozen=True)
class FastLaneSettings:
    enabled: bool = True
    min_gap_s: float = 0.25  # ticks arrive many times a second: at most one pass per this long
    feed_retries: int = 3  # the feed can index a fill a moment after the stream shows it: poll again
    feed_retry_s: float = 0.5
    # A short poll; a deeper gap is the edge sensor's (it opens a loss event and repairs it).
    max_pages: int = 5
    time_budget_s: float = 10.0
    lookback_s: int = 600
    # Re-read before each signal's watermark: the lane's own fills commit before it evaluates; late commits by
    # other writers are the scheduled runs' (their overlap is minutes).
    signal_overlap_s: float = 10.0
    wallets: WalletRefreshSettings = WalletRefreshSettings(max_first_activity_lookups=50)


@dataclass
class PassReport:
    fills: int = 0
    wallet_ages: int = 0
    signal_rows: int = 0
    alerts_delivered: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_detail(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "seconds"},
            **{f"{k}_s": round(v, 3) for k, v in self.seconds.items()},
        }


class InsiderFastLane(threading.Thread):
    """A daemon thread beside the consumer: `on_commit` (the consumer's hook) wakes it; `stop` ends it."""

    def __init__(
        self,
        warehouse: WarehouseResource,
        data_api: DataApiClient,
        delivery: DeliverySettings,
        settings: FastLaneSettings | None = None,
        *,
        run_id: str | None = None,
        logger: logging.Logger | logging.LoggerAdapter | Any | None = None,
        instance: dg.DagsterInstance | None = None,
    ):
        super().__init__(name="insider-fast-lane", daemon=True)
        self.warehouse, self.data_api = warehouse, data_api
        self.settings = settings or FastLaneSettings()
        self.run_id = run_id
        self.log = logger or log
        # Its deliveries show in the lane's own heartbeat; `alert_delivery`'s stays the alert sensor's.
        self.deliverer = AlertDeliverer(
            lambda: warehouse.connect(autocommit=True), delivery, heartbeat_part=None
        )
        self.alert_cursor: dict | None = None
        self.wake, self.stop = threading.Event(), threading.Event()
        self.newest_tick_s = 0
        self.passes, self.failures = 0, 0
        self.recent: deque[PassReport] = deque(maxlen=200)
        # What the lane materialized since it last told Dagster (asset name -> summed counts), so the assets'
        # pages in the UI show the lane's work as runless materializations, at most one per asset a minute.
        self.instance = instance
        self.tally: dict[str, Counter] = {}
        self._reported_at = time.monotonic()

    def on_commit(self, batch: dict[str, list[tuple]], committed_at: float) -> None:
        """The consumer's hook (its event loop thread): must be cheap and must never raise into the consumer."""
        ticks = batch.get("ws_last_trades")
        if not ticks:
            return
        try:
            # The newest tick's second ("YYYY-MM-DD HH:MM:SS.mmm+00"): the feed must reach it before a pass is done.
            newest = datetime.strptime(max(t[0] for t in ticks)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            self.newest_tick_s = max(self.newest_tick_s, int(newest.timestamp()))
        except (ValueError, TypeError, IndexError):
            pass  # no target second: the pass polls once
        self.wake.set()

    def halt(self) -> None:
        self.stop.set()
        self.wake.set()
        self.join(timeout=60)
        self.report_materializations(force=True)

    def report_materializations(self, force: bool = False) -> int:
        """One runless AssetMaterialization per asset the lane evaluated new trades for since the last report."""
        if self.instance is None or not (force or time.monotonic() - self._reported_at >= REPORT_EVERY_S):
            return 0
        tally, self.tally, self._reported_at = self.tally, {}, time.monotonic()
        reported = 0
        for name, counts in tally.items():
            if not any(v for k, v in counts.items() if k != "passes"):
                continue  # evaluated, found nothing new: no materialization to show
            metadata = {
                "source": "stream insider fast lane",
                "stream_run_id": self.run_id or "",
                **dict(counts),
            }
            try:
                self.instance.report_runless_asset_event(
                    dg.AssetMaterialization(asset_key=name, metadata=metadata)
                )
                reported += 1
            except Exception as exc:  # noqa: BLE001 - the UI record must not stop the lane
                self.log.warning(
                    mask_secrets(f"insider fast lane: could not record {name}'s materialization: {exc}")
                )
        return reported

    def run(self) -> None:
        # Consecutive failed passes: they back off (0.5 s doubling to 30 s) and log once per doubling.
        failing = 0
        while not self.stop.is_set():
            self.wake.wait()
            if self.stop.is_set():
                return
            self.wake.clear()
            started = time.monotonic()
            try:
                self.recent.append(self.pass_once())
                self.passes += 1
                self.report_materializations()
                if failing:
                    self.log.info(f"insider fast lane: recovered after {failing} failed pass(es)")
                failing = 0
            except Exception as exc:  # noqa: BLE001 - a failed pass must not end the lane; a later tick retries
                self.failures += 1
                failing += 1
                reason = mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
                pause = min(30.0, 0.5 * 2 ** (failing - 1))
                if failing & (failing - 1) == 0:  # 1st, 2nd, 4th, 8th ... failure in a row
                    self.log.warning(
                        f"insider fast lane: pass failed ({failing} in a row), retrying in "
                        f"{pause:.1f} s; the sensors cover the gap meanwhile: {reason}"
                    )
                self._beat({"ok": False, "error": reason, "failed_in_a_row": failing})
                self.stop.wait(pause)
            self.stop.wait(max(0.0, self.settings.min_gap_s - (time.monotonic() - started)))

    # -- one pass ------------------------------------------------------------------------------------

    def pass_once(self) -> PassReport:
        report = PassReport()
        clock = time.monotonic()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.monotonic()
            report.seconds[name] = now - clock
            clock = now

        report.fills = self._poll_feed()
        lap("feed")
        # Also when the live-edge sensor stored the new fills before this poll did: they are still unevaluated.
        if report.fills or self._signals_behind():
            wallets = refresh_wallets(
                self.data_api, self.warehouse.connect, self.settings.wallets, self.run_id
            )
            report.wallet_ages = wallets["first_activity_written"]
            self._count("wallets", wallets)
            lap("wallets")
            report.signal_rows = self._evaluate_signals()
            lap("signals")
        if report.signal_rows or report.fills:
            delivered = self.deliverer.tick(self.alert_cursor, run_id=self.run_id)
            self.alert_cursor = delivered.cursor
            report.alerts_delivered = delivered.delivered
            lap("alerts")
        self._beat({"ok": True, **report.as_detail(), "recent_passes": self.timings()})
        if report.alerts_delivered:
            self.log.info(f"insider fast lane: {report.as_detail()}")
        return report

    def timings(self) -> dict[str, dict[str, float]]:
        """p50 / p95 seconds of each step over the recent passes that ran it (heartbeat detail, the bench)."""
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

    def _poll_feed(self) -> int:
        """New fills from the live edge; polls again briefly while the feed has not yet indexed the newest tick's
        second (upstream indexes a fill a moment after the stream shows it)."""
        s = self.settings
        target, inserted = self.newest_tick_s, 0
        for attempt in range(s.feed_retries + 1):
            outcome = run_trade_load(
                self.data_api,
                self.warehouse.connect,
                lambda session, writer: poll_live_edge(
                    session,
                    writer,
                    max_pages=s.max_pages,
                    time_budget_s=s.time_budget_s,
                    lookback_s=s.lookback_s,
                ),
                run_id=self.run_id,
            )
            inserted += int(outcome.metadata.get("rows_inserted", 0))
            newest = outcome.value.newest_s
            if (newest is not None and newest >= target) or attempt == s.feed_retries:
                break
            if self.stop.wait(s.feed_retry_s):
                break
        return inserted

    def _signals_behind(self) -> bool:
        with self.warehouse.connect() as conn:
            return bool(watermarks_behind(conn)[1])

    def _evaluate_signals(self) -> int:
        with self.warehouse.connect() as conn:
            config = insider_run_config(conn)["ops"]  # the dashboard's overrides, as the sensor applies them
        rows = 0
        for name, evaluate, config_class in EVALUATORS:
            kwargs: dict[str, Any] = {"overlap": timedelta(seconds=self.settings.signal_overlap_s)}
            if config_class is not None:
                kwargs["config"] = config_class(**config[name]["config"])
            meta = evaluate(_QUIET, self.warehouse, **kwargs).metadata or {}
            self._count(name, meta)
            rows += int(_value(meta.get("rows_written", meta.get("clusters", 0))))
        return rows

    def _count(self, name: str, metadata: dict) -> None:
        counts = self.tally.setdefault(name, Counter({"passes": 0}))
        counts["passes"] += 1
        for key, value in metadata.items():
            value = _value(value)
            if isinstance(value, int) and not isinstance(value, bool):
                # Summed over passes that each re-read the overlap: trades evaluated, not distinct new trades.
                counts[_SUMMED_NAMES.get(key, key)] += value

    def _beat(self, detail: dict) -> None:
        try:
            with self.warehouse.connect() as conn:
                heartbeats.beat(conn, LANE_PART, detail, self.run_id)  # read by the insider sensor
        except Exception as exc:  # noqa: BLE001 - a heartbeat must not take the lane down
            self.log.warning(f"insider fast lane: heartbeat not written: {mask_secrets(str(exc))[:200]}")


def _value(v: Any) -> Any:
    return getattr(v, "value", v)  # MaterializeResult metadata may hold MetadataValue wrappers
