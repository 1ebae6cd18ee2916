"""Sends outside the signal flow: the dashboard's "test-send" button and system (dead-man's-switch) alerts.

Neither writes alert_deliveries nor counts against a budget. Both return results with masked URLs and never
raise for a failed post: a monitoring path must not crash its caller. Dagster-free.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg.rows import dict_row

from pm_assets.storage.urls import mask_secrets, mask_webhook_url
from pm_sensors.alerts.messages import AlertMessage, render_payload, rule_test_message, system_message
from pm_sensors.alerts.sources import SYSTEM_SIGNAL_TYPE
from pm_sensors.alerts.targets import WebhookTargetError, check_webhook_target
from pm_sensors.alerts.webhook import post_webhook, webhook_client

log = logging.getLogger(__name__)

SYSTEM_WEBHOOK_ENV = "PM_INTEL_SYSTEM_WEBHOOK_URL"
SYSTEM_WEBHOOK_KIND_ENV = "PM_INTEL_SYSTEM_WEBHOOK_KIND"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    target: str  # masked URL
    # What a user may read: "sent to ...", "refused by policy: <the rule broken>" or "failed". Nothing about
    # the far side (refused, TLS, timeout, DNS): the test-send button must not work as a port scanner.
    text: str
    rule_name: str | None = None
    detail: str = ""  # masked, for the operator's log only


def send_message(
    url: str,
    destination_kind: str,
    message: AlertMessage,
    *,
    client: httpx.Client | None = None,
    allow_private: bool | None = None,
    max_attempts: int = 2,
    timeout_s: float = 10.0,
    resolver=None,
    rule_name: str | None = None,
) -> SendResult:
    """Check the target (resolving it once), render the message for it and post it to the checked addresses
    once (plus one quick retry). Never raises: whatever goes wrong is a result."""
    masked = mask_webhook_url(url)
    try:
        target = check_webhook_target(url, allow_private=allow_private, resolver=resolver)
    except WebhookTargetError as exc:
        if exc.transient:
            return SendResult(False, masked, "failed", rule_name, mask_secrets(str(exc)))
        return SendResult(False, masked, f"refused by policy: {exc}", rule_name, mask_secrets(str(exc)))
    own_client = client is None
    try:
        payload = render_payload(destination_kind, message)
        client = client or webhook_client()
        try:
            outcome = post_webhook(
                client, target, payload, max_attempts=max_attempts, timeout_s=timeout_s, max_wait_s=2.0
            )
        finally:
            if own_client:
                client.close()
    except Exception as exc:  # a monitoring path must not crash its caller, whatever the target did
        return SendResult(
            False, masked, "failed", rule_name, mask_secrets(f"{type(exc).__name__}: {exc}")[:300]
        )
    if outcome.ok:
        return SendResult(True, masked, f"sent to {masked} (HTTP {outcome.status_code})", rule_name)
    return SendResult(False, masked, "failed", rule_name, mask_secrets(outcome.error or ""))


def send_rule_test(rule: Mapping[str, Any], **kwargs: Any) -> SendResult:
    """Send a clearly marked test message to one rule's webhook (rule: name, signal_type, destination_kind,
    webhook_url), whether or not the rule is enabled."""
    message = rule_test_message(rule["name"], rule["signal_type"])
    result = send_message(
        rule["webhook_url"], rule["destination_kind"], message, rule_name=rule["name"], **kwargs
    )
    if not result.ok:
        log.warning(
            "test message for rule %r to %s: %s (%s)", rule["name"], result.target, result.text, result.detail
        )
    return result


def send_rule_test_by_id(conn: psycopg.Connection, rule_id: int, **kwargs: Any) -> SendResult:
    """The dashboard's test-send: reads the rule (the editor role may see its webhook) and sends the test."""
    with conn.cursor(row_factory=dict_row) as cur:
        rule = cur.execute(
            "select name, signal_type, destination_kind, webhook_url from alert_rules where rule_id = %s",
            (rule_id,),
        ).fetchone()
    if rule is None:
        return SendResult(False, "<none>", f"no alert rule with id {rule_id}")
    return send_rule_test(rule, **kwargs)


def infer_destination_kind(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return "json"
    if host == "hooks.slack.com":
        return "slack"
    if host in {"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"}:
        return "discord"
    return "json"


def send_system_alert(
    kind: str,
    text: str,
    *,
    conn: psycopg.Connection | None = None,
    env: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> list[SendResult]:
    """Post a system alert (e.g. kind='stream_stale') to every enabled rule with signal_type 'system' (read
    through `conn`, if given) and to PM_INTEL_SYSTEM_WEBHOOK_URL (kind from PM_INTEL_SYSTEM_WEBHOOK_KIND, else
    inferred from the host). Returns one result per target; an empty list means nobody is configured."""
    env = os.environ if env is None else env
    targets: list[tuple[str, str, str | None]] = []
    if conn is not None:
        rows = conn.execute(
            "select webhook_url, destination_kind, name from alert_rules where enabled and signal_type = %s "
            "order by rule_id",
            (SYSTEM_SIGNAL_TYPE,),
        ).fetchall()
        targets.extend((url, dest, name) for url, dest, name in rows)
    configured = (env.get(SYSTEM_WEBHOOK_ENV) or "").strip()
    if configured and configured not in {t[0] for t in targets}:
        targets.append(
            (configured, env.get(SYSTEM_WEBHOOK_KIND_ENV) or infer_destination_kind(configured), None)
        )
    message = system_message(kind, text)
    results = [send_message(url, dest, message, rule_name=name, **kwargs) for url, dest, name in targets]
    for result in results:
        if not result.ok:
            log.warning("system alert %s to %s: %s (%s)", kind, result.target, result.text, result.detail)
    return results
