"""Warehouse upkeep that Dagster owns: future monthly partitions of the time-series tables."""

import dagster as dg
from sqlalchemy import text

from pm_assets.resources.warehouse import WarehouseResource


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
        created = conn.execute(text("select pm_ensure_all_partitions(:m)"), {"m": config.months_ahead}).scalar()
    context.log.info("created %s partitions", created)
    return dg.MaterializeResult(metadata={"partitions_created": dg.MetadataValue.int(int(created or 0))})


warehouse_partitions_schedule = dg.ScheduleDefinition(
    name="warehouse_partitions_schedule",
    target=dg.AssetSelection.assets(warehouse_partitions),
    cron_schedule="17 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
