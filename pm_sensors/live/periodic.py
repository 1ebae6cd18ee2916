"""The live run's periodic work: what used to be a run a minute (book snapshots, the stream's market signals,
reconciliation, coverage, the dashboards' rollups), the wallet ages a live pass left behind, done in the
long-lived run on a timer instead, and the asset checks on the tables the live run writes.

Each task is a plain function of the resources that returns, per asset it wrote, the metadata a run of that
asset reports; the driver reports them to Dagster as runless materializations. The assets stay the way to do
the same work at once from the UI (each calls the same function). Likewise each live check calls the plain
function its asset check definition calls, and the driver reports the result as a runless check evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from pm_assets.books import quality as book_quality
from pm_assets.books import sql as book_sql
from pm_assets.books.capture import snapshot_books
from pm_assets.coverage.ledger_refresh import (
    CoverageLedgerConfig,
    refresh_coverage_daily,
    refresh_coverage_ledger,
)
from pm_assets.coverage.reconciliation import ReconciliationConfig, reconcile_trades
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.market_signals import EVALUATORS as MARKET_EVALUATORS
from pm_assets.trades import quality as trade_quality
from pm_assets.wallets.refresh import WalletRefreshSettings, look_up_first_activities
from pm_assets.warehouse.rollups import refresh_dashboard_rollups

AssetEvents = dict[str, dict[str, Any]]  # asset key -> the metadata its materialization reports


@dataclass(frozen=True)
class LiveResources:
    warehouse: WarehouseResource
    data_api: DataApiClient
    clob: ClobClient
    run_id: str | None
    log: Any


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    interval_s: float
    work: Callable[[LiveResources], AssetEvents]


def book_snapshots(r: LiveResources) -> AssetEvents:
    captured_at = datetime.now(UTC).replace(microsecond=0)
    with r.warehouse.connect() as conn:
        tokens = book_sql.active_book_tokens(conn, None)
    if not tokens:
        return {}
    return {
        "order_book_snapshots": snapshot_books(r.clob, r.warehouse.connect, tokens, captured_at, r.run_id)
    }


def market_signals(r: LiveResources) -> AssetEvents:
    """arbitrage_windows and price_spikes from the ticks and prices stored since their watermarks, through the
    same `evaluate` their assets call. The config is left empty, so each resolves the saved thresholds
    (override store, environment, default) as a scheduled run does, and saves nothing; a signal that fails on
    its thresholds is logged and skipped, and the other goes on."""
    out: AssetEvents = {}
    for name, evaluate, config_class in MARKET_EVALUATORS:
        try:
            result = evaluate(r.log, r.warehouse, config_class())
        except dg.Failure as exc:
            r.log.warning(f"{name}: skipped this minute: {exc.description or exc}")
            continue
        out[name] = {k: getattr(v, "value", v) for k, v in (result.metadata or {}).items()}
    return out


def reconciliation(r: LiveResources) -> AssetEvents:
    return {
        "trade_reconciliation": reconcile_trades(
            r.warehouse, r.data_api, ReconciliationConfig(), r.run_id, r.log
        )
    }


def coverage(r: LiveResources) -> AssetEvents:
    return {
        "coverage_ledger": refresh_coverage_ledger(r.warehouse, CoverageLedgerConfig(), r.log),
        "coverage_daily": refresh_coverage_daily(r.warehouse),
    }


# Gently: the live pass's own lookups share the upstream's rate budget for /v2/activity.
WALLET_AGE_BACKLOG = WalletRefreshSettings(max_first_activity_lookups=100, concurrency=2)


def wallet_ages(r: LiveResources) -> AssetEvents:
    """First activity of the wallets a live pass did not look up (past its cap, a failed lookup, fills another
    writer stored): the pass looks up only the wallets its new fills touched, so none waits behind these."""
    found = look_up_first_activities(r.data_api, r.warehouse.connect, WALLET_AGE_BACKLOG, r.run_id)
    return {"wallets": found} if found["first_activity_lookups"] else {}


def rollups(r: LiveResources) -> AssetEvents:
    return {key: {"rows_upserted": n} for key, n in refresh_dashboard_rollups(r.warehouse).items()}


TASKS = (
    PeriodicTask("book_snapshots", 60.0, book_snapshots),
    PeriodicTask("market_signals", 60.0, market_signals),
    PeriodicTask("reconciliation", 120.0, reconciliation),
    PeriodicTask("coverage", 300.0, coverage),
    PeriodicTask("rollups", 300.0, rollups),
    PeriodicTask("wallet_ages", 60.0, wallet_ages),
)


@dataclass(frozen=True)
class LiveCheck:
    """An asset check (declared beside its asset, named `name`) that the driver evaluates through the same
    function the definition calls, for a table the live run writes outside any run."""

    asset: str
    name: str
    rule: Callable[[WarehouseResource], dg.AssetCheckResult]

    def evaluation(self, warehouse: WarehouseResource) -> dg.AssetCheckEvaluation:
        result = self.rule(warehouse)
        return dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(self.asset),
            check_name=self.name,
            passed=result.passed,
            metadata=result.metadata,
            severity=result.severity,
            description=result.description,
        )


# Only rules that read a few rows through an index: they run every minute beside the live path. Whole-table
# scans (duplicate fills, prices, unknown tokens) and the backfill-day rules stay with runs and the UI.
LIVE_CHECKS = (
    LiveCheck("trades", "trades_fresh", trade_quality.live_edge_fresh),
    LiveCheck("trades", "trades_partitions_complete", trade_quality.partitions_complete),
    LiveCheck("order_book_snapshots", "book_snapshots_fresh", book_quality.snapshots_fresh),
    LiveCheck("order_book_snapshots", "book_prices_in_range", book_quality.prices_in_range),
)
CHECKS_EVERY_S = 60.0
