"""The one Definitions object of pm-intel: every domain's assets, checks, jobs, schedules and sensors."""

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.warehouse_maintenance import warehouse_partitions, warehouse_partitions_schedule

defs = dg.Definitions(
    assets=[warehouse_partitions],
    schedules=[warehouse_partitions_schedule],
    resources={
        "warehouse": WarehouseResource(database_url=dg.EnvVar("DATABASE_URL")),
    },
)
