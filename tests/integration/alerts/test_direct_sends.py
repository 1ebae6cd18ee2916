"""Test-send for a rule and system alerts, against a real local receiver."""

from __future__ import annotations

import pytest

from pm_sensors.alerts.direct_sends import infer_destination_kind, send_rule_test_by_id, send_system_alert
from tests.support.alerts import add_rule


@pytest.fixture(autouse=True)
def allow_local(monkeypatch):
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")


def test_test_send_posts_a_marked_message_and_reports_ok(db, receiver):
    rule = add_rule(db, "big buys", receiver.url("/T0/sekrit"), kind="slack", enabled=False)

    result = send_rule_test_by_id(db, rule)

    assert result.ok and "HTTP 200" in result.text and "sekrit" not in result.text
    (request,) = receiver.delivered()
    assert request.body["text"].startswith("[TEST]") and "big buys" in request.body["text"]


def test_test_send_reports_failure_masked(db, receiver):
    rule = add_rule(db, "r", receiver.url("/T0/sekrit"), kind="discord")
    receiver.fail_next(5, 500)

    result = send_rule_test_by_id(db, rule)

    # The page says only "failed"; the operator's log has the masked detail.
    assert not result.ok and result.text == "failed" and result.target == f"{receiver.base_url}/***"
    assert "HTTP 500" in result.detail and "sekrit" not in result.detail


def test_test_send_refuses_private_target_when_not_allowed(db, receiver, monkeypatch):
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "0")
    rule = add_rule(db, "r", "https://127.0.0.1/T0/sekrit")

    result = send_rule_test_by_id(db, rule)

    assert not result.ok and result.text.startswith("refused by policy: ")
    assert "loopback" in result.text and "sekrit" not in result.text
    assert send_rule_test_by_id(db, 999_999).text == "no alert rule with id 999999"


def test_system_alert_goes_to_enabled_system_rules_and_the_configured_url(db, receiver):
    add_rule(db, "ops", receiver.url("/ops"), signal_type="system", kind="discord")
    add_rule(db, "ops off", receiver.url("/off"), signal_type="system", enabled=False)
    add_rule(db, "fresh", receiver.url("/fresh"))
    env = {"PM_INTEL_SYSTEM_WEBHOOK_URL": receiver.url("/env")}

    results = send_system_alert("stream_stale", "no websocket ticks for 5 minutes", conn=db, env=env)

    assert [r.ok for r in results] == [True, True]
    assert {r.path for r in receiver.delivered()} == {"/ops", "/env"}
    by_path = {r.path: r.body for r in receiver.delivered()}
    assert "stream_stale" in by_path["/ops"]["content"]
    assert by_path["/env"]["kind"] == "system" and by_path["/env"]["system_kind"] == "stream_stale"


def test_system_alert_with_nobody_configured_is_a_no_op(db):
    assert send_system_alert("x", "y", conn=db, env={}) == []


def test_destination_kind_is_inferred_from_the_host():
    assert infer_destination_kind("https://hooks.slack.com/services/a/b/c") == "slack"
    assert infer_destination_kind("https://discord.com/api/webhooks/1/x") == "discord"
    assert infer_destination_kind("https://example.com/hook") == "json"
