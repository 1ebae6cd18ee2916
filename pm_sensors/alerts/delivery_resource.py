"""`AlertDeliveryResource`: how alert delivery paces itself, as a Dagster resource. The live driver
(pm_sensors/live) runs one bounded `AlertDeliverer.tick()` per live pass: the one driver of delivery."""

from __future__ import annotations

import dagster as dg

from pm_sensors.alerts.delivery import DeliverySettings


class AlertDeliveryResource(dg.ConfigurableResource):
    """How alert delivery paces itself. The defaults keep one live pass short."""

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
