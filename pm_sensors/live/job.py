"""`live_job`: one op that runs the live driver until the run is terminated (or `max_runtime_s` passes).

`live_supervisor_sensor` keeps exactly one run of it alive (run tag `pm-intel/singleton: live`, limited to 1 by
dagster.yaml's QueuedRunCoordinator), restarting it when its heartbeat (part `live_driver`) goes stale.
"""

import threading

import dagster as dg
from pydantic import Field

from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.alerts.delivery_resource import AlertDeliveryResource

from .driver import HEARTBEAT_PART, LiveDriver

SINGLETON_TAGS = {"pm-intel/singleton": "live"}


class LiveDriverConfig(dg.Config):
    poll_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between live passes when no stored trade tick wakes the driver (the polling path).",
    )
    max_runtime_s: float = Field(
        default=0.0, ge=0, description="Stop after this many seconds (0 = until the run is terminated)."
    )


@dg.op(tags=SINGLETON_TAGS)
def run_live_driver(
    context: dg.OpExecutionContext,
    config: LiveDriverConfig,
    warehouse: WarehouseResource,
    data_api: DataApiClient,
    clob: ClobClient,
    alert_delivery: AlertDeliveryResource,
) -> dg.Output:
    """Poll the trade feed's live edge, refresh wallet ages, evaluate the insider signals and deliver alerts on
    each stored trade tick (and every poll_interval_s); take book snapshots, evaluate the stream's market
    signals, reconcile, refresh coverage and the dashboards' rollups on their timers. Every table written is
    reported to Dagster as a runless materialization of its asset."""
    context.log.info(f"live driver: warehouse={warehouse.masked_url} poll every {config.poll_interval_s}s")
    driver = LiveDriver(
        warehouse,
        data_api,
        clob,
        alert_delivery.settings(),
        instance=context.instance,
        run_id=context.run_id,
        logger=context.log,
        poll_interval_s=config.poll_interval_s,
    )
    stop = threading.Event()
    try:
        summary = driver.run(stop, config.max_runtime_s)
    finally:
        stop.set()
    return dg.Output(None, metadata=summary)


@dg.job(
    tags=SINGLETON_TAGS,
    description="The long-running live run: the one path from a new fill to a delivered alert, plus the "
    "minute-scale work (book snapshots, stream market signals, reconciliation, coverage, rollups); kept alive by "
    f"live_supervisor_sensor (heartbeat part `{HEARTBEAT_PART}`).",
)
def live_job():
    run_live_driver()
