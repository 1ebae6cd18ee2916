"""The warehouse's schedule: future monthly partitions of the time-series tables, made daily."""

import dagster as dg

warehouse_partitions_schedule = dg.ScheduleDefinition(
    name="warehouse_partitions_schedule",
    target=dg.AssetSelection.assets("warehouse_partitions"),
    cron_schedule="17 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
