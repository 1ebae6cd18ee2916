"""`deadman_sensor`: the dead-man's switch (pm_assets/coverage/deadman.py decides; this sensor runs it every 15 s
and sends the system alerts)."""

from datetime import UTC, datetime

import dagster as dg

from pm_assets.coverage import deadman
from pm_assets.coverage.status import StatusThresholds
from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.alerts.direct_sends import send_system_alert


def _notify(edge: deadman.Transition, conn) -> str | None:
    results = send_system_alert(f"deadman_{edge.kind}", edge.text, conn=conn)
    if not results:
        return "no system alert destination: add an alert rule of type 'system' or set PM_INTEL_SYSTEM_WEBHOOK_URL"
    failed = [r.text for r in results if not r.ok]
    return "; ".join(failed) if failed else None


@dg.sensor(minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def deadman_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SkipReason:
    """The dead-man's switch: one alert when a heartbeat (or the trade feed while markets are open) goes silent
    past its threshold, one "recovered" message when it comes back."""
    now = datetime.now(UTC)
    with warehouse.connect() as conn:
        fired = deadman.evaluate(conn, now, StatusThresholds.from_env(), _notify)
    for edge in fired:
        context.log.warning("dead-man's switch: %s %s", edge.part, edge.kind)
    return dg.SkipReason(", ".join(f"{e.part} {e.kind}" for e in fired) or "all watched parts beating")
