"""`trade_loss_repair_job` and `trade_loss_repair_sensor`, which launches it: the repair of the live edge's open
loss events, one run per set of losses.

The live edge itself is polled by the live driver (pm_sensors/live); when the feed cannot page back to the proven
frontier it opens a loss event. Repairing one (a `condition=` walk over every market that may have traded in
the interval) is minutes of work and worth a run a user can open: this sensor launches
`trade_loss_repair_job`, keyed by the loss ids so each loss is repaired by one run. It reads two rows a tick and
writes nothing.
"""

import dagster as dg

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades import sql
from pm_assets.trades.live_edge import repair_open_losses
from pm_assets.trades.loading import run_trade_load


@dg.op
def repair_trade_losses(
    context: dg.OpExecutionContext, data_api: DataApiClient, warehouse: WarehouseResource
) -> dict:
    """Re-walk, market by market, every interval the live edge could not prove it saw."""
    outcome = run_trade_load(
        data_api,
        warehouse.connect,
        lambda session, writer: repair_open_losses(session, writer),
        run_id=context.run_id,
    )
    context.log.info("trade loss repair: %s", outcome.metadata)
    context.add_output_metadata(outcome.metadata)
    return outcome.metadata


@dg.job(description="Repair the live trade edge's open loss events from per-market condition walks.")
def trade_loss_repair_job() -> None:
    repair_trade_losses()


@dg.sensor(
    name="trade_loss_repair_sensor",
    job=trade_loss_repair_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches trade_loss_repair_job for the live edge's open loss events (one run per set of ids).",
)
def trade_loss_repair_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        open_losses = sql.open_loss_events(conn)
    if not open_losses:
        return dg.SkipReason("no open loss events on the live trade edge")
    ids = "-".join(str(loss[0]) for loss in open_losses)
    return dg.RunRequest(run_key=f"trade-loss-{ids}", tags={"pm_intel/trade_loss_ids": ids})
