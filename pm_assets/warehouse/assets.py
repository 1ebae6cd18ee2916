"""Warehouse upkeep that Dagster owns: future monthly partitions of the time-series tables, and the dashboards'
rollups. The partitions' daily schedule is in pm_sensors/warehouse."""

import dagster as dg
from sqlalchemy import text

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.warehouse.rollups import refresh_dashboard_rollups


class PartitionMaintenanceConfig(dg.Config):
    months_ahead: int = 6


@dg.asset(group_name="warehouse", kinds={"postgres"})
def warehouse_partitions(
    context: dg.AssetExecutionContext, config: PartitionMaintenanceConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Monthly partitions of every time-series table exist up to `months_ahead` months from today.

    Refreshed daily; rows older than the first partition land in each table's default partition.
    """
    with warehouse.engine().begin() as conn:
        created = conn.execute(
            text("select pm_ensure_all_partitions(:m)"), {"m": config.months_ahead}
        ).scalar()
    context.log.info("created %s partitions", created)
    return dg.MaterializeResult(metadata={"partitions_created": dg.MetadataValue.int(int(created or 0))})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key, group_name="warehouse", kinds={"postgres"}, deps=[dg.AssetKey("trades")], description=doc
        )
        for key, doc in (
            (
                "market_volume_daily",
                "Per-market daily traded USDC and fills, for the dashboards' market pages.",
            ),
            (
                "wallet_positions",
                "Per-wallet, per-token net position and volume, for the dashboards' wallet pages.",
            ),
        )
    ],
)
def dashboard_rollups(warehouse: WarehouseResource):
    """Adds the trades ingested since the last refresh to the dashboards' rollups (each trade once); the pages
    add what is newer on the fly, so figures are exact even when this lags. Refreshed every 5 minutes by the
    live run (`live_job`); a run of this asset refreshes them at once."""
    for key, count in refresh_dashboard_rollups(warehouse).items():
        yield dg.MaterializeResult(asset_key=key, metadata={"rows_upserted": dg.MetadataValue.int(count)})
