"""Periodic pulls of the market universe, order books and price history.

- universe refresh: events, markets, tokens every 15 minutes (a full keyset crawl; re-runs change only
  what Gamma changed);
- (book snapshots, `order_book_snapshots`, are taken every minute by the live run, `live_job`: a run a minute
  would bury the run history);
- price history: yesterday's `price_points` partition daily at 00:30 UTC (backfill older days from the UI).
"""

from datetime import timedelta

import dagster as dg

universe_refresh_job = dg.define_asset_job(
    "universe_refresh_job",
    selection=dg.AssetSelection.assets("events", "markets", "tokens"),
    description="Crawl Gamma's keyset listings (open and closed, v1 and v2) into events, markets, tokens.",
)
price_history_job = dg.define_asset_job(
    "price_history_job",
    selection=dg.AssetSelection.assets("price_points"),
    description="Load one day of CLOB price history per outcome id into price_points.",
)

universe_refresh_schedule = dg.ScheduleDefinition(
    name="universe_refresh_schedule",
    job=universe_refresh_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.schedule(
    job=price_history_job,
    cron_schedule="30 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def price_history_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday's partition: the shared daily partitions end a day ahead (end_offset=1), so the schedule
    names the finished day itself rather than the partial current one."""
    day = (context.scheduled_execution_time - timedelta(days=1)).strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"price_history:{day}", partition_key=day)


ingestion_jobs = [universe_refresh_job, price_history_job]
ingestion_schedules = [universe_refresh_schedule, price_history_schedule]
