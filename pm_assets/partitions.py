"""The shared daily partitions: trades, price history, snapshots and signals backfill by day."""

import dagster as dg

# Polymarket's CLOB history worth backfilling starts well before this; users pick ranges in the UI.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC", end_offset=1)
