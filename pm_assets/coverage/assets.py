"""Coverage assets: the per-minute ledger, the daily percentages with their floor check, the stream-versus-feed
reconciliation. The dead-man's switch is a sensor: pm_sensors/coverage/deadman_sensor.py."""

import os

import dagster as dg

from pm_assets.coverage.ledger_refresh import (
    CoverageLedgerConfig,
    refresh_coverage_daily,
    refresh_coverage_ledger,
)
from pm_assets.coverage.reconciliation import ReconciliationConfig, reconcile_trades
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource


@dg.asset(group_name="coverage", kinds={"postgres"})
def coverage_ledger(
    context: dg.AssetExecutionContext, config: CoverageLedgerConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Per source (trade feed, stream, book snapshots, universe crawl) and minute: covered, gap or repaired,
    with the evidence (continuity proofs, loss events, stream gaps, repairs). Refreshed every few minutes by
    the live run (`live_job`); a run of this asset recomputes it at once."""
    return dg.MaterializeResult(metadata=refresh_coverage_ledger(warehouse, config, context.log))


@dg.asset(group_name="coverage", kinds={"postgres"}, deps=[coverage_ledger])
def coverage_daily(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Daily coverage percent per source (covered or repaired minutes over minutes the source existed)."""
    return dg.MaterializeResult(metadata=refresh_coverage_daily(warehouse))


@dg.asset_check(
    asset=coverage_daily, description="Today's coverage of every source is at or above the floor."
)
def coverage_above_floor(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    floor = float(os.environ.get("PM_INTEL_COVERAGE_FLOOR_PCT", "99"))
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select source, coverage_pct, gap_minutes from coverage_daily where day = (now() at time zone 'UTC')::date"
        ).fetchall()
    below = {s: round(p, 3) for s, p, _ in rows if p < floor}
    return dg.AssetCheckResult(
        passed=bool(rows) and not below,
        metadata={"floor_pct": floor, "below_floor": str(below or "none"), "sources": len(rows)},
        description=None if rows else "no coverage rows for today: coverage is unproven",
    )


@dg.asset(group_name="coverage", kinds={"postgres"}, deps=[dg.AssetKey("trades")])
def trade_reconciliation(
    context: dg.AssetExecutionContext,
    config: ReconciliationConfig,
    warehouse: WarehouseResource,
    data_api: DataApiClient,
) -> dg.MaterializeResult:
    """Trades seen on the stream against trades from the Data API, per market and minute. What the feed missed
    is repaired at once by a targeted backfill of those markets and minutes; the ledger shows it as repaired.
    The live run (`live_job`) reconciles every two minutes; a run of this asset does it at once."""
    return dg.MaterializeResult(
        metadata=reconcile_trades(warehouse, data_api, config, context.run_id, context.log)
    )
