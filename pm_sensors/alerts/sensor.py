"""The alert delivery sensor: a thin wrapper that runs one bounded `AlertDeliverer.tick()` per evaluation."""

from __future__ import annotations

import json

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.urls import mask_secrets
from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings


class AlertDeliveryResource(dg.ConfigurableResource):
    """How alert delivery paces itself. The defaults keep one sensor evaluation well under 60 s."""

    scan_batch: int = 500
    send_batch: int = 200
    tick_budget_s: float = 20.0
    request_timeout_s: float = 10.0
    attempts_per_tick: int = 3
    max_attempts: int = 8
    lookback_s: float = 300.0
    # None: follow PM_INTEL_ALLOW_PRIVATE_WEBHOOKS.
    allow_private_webhooks: bool | None = None

    def settings(self) -> DeliverySettings:
        return DeliverySettings(
            scan_batch=self.scan_batch,
            send_batch=self.send_batch,
            tick_budget_s=self.tick_budget_s,
            request_timeout_s=min(self.request_timeout_s, self.tick_budget_s),
            attempts_per_tick=self.attempts_per_tick,
            max_attempts=self.max_attempts,
            lookback_s=self.lookback_s,
            allow_private=self.allow_private_webhooks,
        )


@dg.sensor(
    name="alert_delivery_sensor",
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Posts new alert-worthy signals (suppressed_reason null) to the webhooks of matching alert_rules, once "
        "per rule and signal (alert_deliveries), retrying failures, holding matches past a rule's daily budget "
        "and sending one digest per rule and UTC day for them. Cursor: last (detected_at, signal_key) per table."
    ),
)
def alert_delivery_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, alert_delivery: AlertDeliveryResource
) -> dg.SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else None
    deliverer = AlertDeliverer(lambda: warehouse.connect(autocommit=True), alert_delivery.settings())
    try:
        report = deliverer.tick(cursor)
    except Exception as exc:  # a webhook or database URL must not reach the UI in clear
        raise RuntimeError(mask_secrets(f"{type(exc).__name__}: {exc}")) from None
    context.update_cursor(json.dumps(report.cursor, sort_keys=True))
    for error in report.errors:
        context.log.warning(error)
    summary = ", ".join(f"{k}={v}" for k, v in report.summary().items() if v and k != "errors")
    if summary:
        context.log.info(f"alert delivery: {summary}")
    return dg.SkipReason(f"alert delivery tick: {summary or 'nothing new'}")
