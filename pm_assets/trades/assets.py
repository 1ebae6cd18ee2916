"""The `trades` asset (daily partitions, backfill path). The loss-repair job the live edge relies on is in
pm_sensors/ingestion/trade_edge.py."""

import dagster as dg

from pm_assets.partitions import daily_partitions
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades.loading import backfill_trade_window, run_trade_load
from pm_assets.trades.writer import DEFAULT_BATCH_SIZE


class TradesConfig(dg.Config):
    batch_size: int = DEFAULT_BATCH_SIZE
    concurrency: int = 4


@dg.asset(
    key="trades",
    group_name="trades",
    kinds={"postgres"},
    partitions_def=daily_partitions,
    deps=[dg.AssetKey("markets")],
)
def trades(
    context: dg.AssetExecutionContext,
    config: TradesConfig,
    data_api: DataApiClient,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every taker-side fill (Data API v2, `taker_only=true`: each fill once, volume never double-counted),
    keyed by `fill_key`, for the partition's UTC day.

    A partition run walks `condition=` pages of every market that may have traded that day back to the day's
    start; re-runs and overlapping backfills change nothing. Between runs the live run (`live_job`) polls the
    feed's live edge every few seconds and reports today's partition as materialized each minute it adds fills.
    """
    window = context.partition_time_window
    outcome = run_trade_load(
        data_api,
        warehouse.connect,
        lambda session, writer: backfill_trade_window(
            session, writer, window.start, window.end, config.concurrency
        ),
        run_id=context.run_id,
        batch_size=config.batch_size,
    )
    context.log.info("trades %s: %s", context.partition_key, outcome.metadata)
    return dg.MaterializeResult(metadata={**outcome.metadata, **outcome.value})
