"""The live run's periodic work: what used to be a run a minute (book snapshots, the stream's market signals,
reconciliation, coverage, the dashboards' rollups), done in the long-lived run on a timer instead.

Each task is a plain function of the resources that returns, per asset it wrote, the metadata a run of that
asset reports; the driver reports them to Dagster as runless materializations. The assets stay the way to do
the same work at once from the UI (each calls the same function).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
from pm_assets.signals import arbitrage, spikes
from pm_assets.signals import thresholds as th
from pm_assets.signals.arbitrage import ArbitrageThresholds
from pm_assets.signals.market_inputs import materialize_arbitrage
from pm_assets.signals.spikes import SpikeThresholds, materialize_spikes
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
    """arbitrage_windows and price_spikes from the ticks and books stored since their watermarks, under the
    saved thresholds (override store, environment, default) as a scheduled run resolves them; saves nothing."""
    out: AssetEvents = {}
    with r.warehouse.connect() as conn:
        values = th.saved_values(conn, arbitrage.SPEC.signal_type, log=r.log)
        result = materialize_arbitrage(conn, ArbitrageThresholds.from_values(values))
        out["arbitrage_windows"] = {**result, "thresholds": values}
    with r.warehouse.connect() as conn:
        values = th.saved_values(conn, spikes.SPEC.signal_type, log=r.log)
        result = materialize_spikes(conn, SpikeThresholds.from_values(values))
        out["price_spikes"] = {**result, "thresholds": values}
    return {k: {m: v for m, v in meta.items() if v is not None} for k, meta in out.items()}


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


def rollups(r: LiveResources) -> AssetEvents:
    return {key: {"rows_upserted": n} for key, n in refresh_dashboard_rollups(r.warehouse).items()}


TASKS = (
    PeriodicTask("book_snapshots", 60.0, book_snapshots),
    PeriodicTask("market_signals", 60.0, market_signals),
    PeriodicTask("reconciliation", 120.0, reconciliation),
    PeriodicTask("coverage", 300.0, coverage),
    PeriodicTask("rollups", 300.0, rollups),
)
