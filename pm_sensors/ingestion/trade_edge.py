"""`trade_loss_repair_sensor`: launches the repair of the live edge's open loss events, one run per set of losses.

The live edge itself is polled by the live driver (pm_sensors/live); when the feed cannot page back to the proven
frontier it opens a loss event. Repairing one (a `condition=` walk over every market that may have traded in
the interval) is minutes of work and worth a run a user can open: this sensor launches
`trade_loss_repair_job`, keyed by the loss ids so each loss is repaired by one run. It reads two rows a tick and
writes nothing.
"""

from __future__ import annotations

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades import sql
from pm_assets.trades.assets import trade_loss_repair_job


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
