"""Webhook validation, masking and test-send for the alerts page: the alert engine's own Dagster-free rules
(pm_sensors.alerts.targets / direct_sends), so the page never stores a target the sender would refuse."""

from __future__ import annotations

from dashboards import db
from pm_sensors.alerts.direct_sends import SendResult, send_rule_test_by_id
from pm_sensors.alerts.targets import WebhookTargetError, mask_webhook_url, validate_webhook_url


def test_send(rule_id: int) -> SendResult:
    """Post the alert engine's test message to the rule's webhook; the result's text is already masked."""
    with db.editor().connect() as conn:
        # The editor role may read the webhook URL; the engine's function reads it through this connection.
        return send_rule_test_by_id(conn.connection.driver_connection, rule_id)


__all__ = ["WebhookTargetError", "mask_webhook_url", "test_send", "validate_webhook_url"]
