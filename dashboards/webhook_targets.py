"""Webhook URL validation and masking for the alerts page.

The alerts engine's Dagster-free `pm_sensors.alerts.targets` is the one source of truth once it exists; until
then this module applies the same documented rule (https only; no private, loopback, link-local or reserved
address unless PM_INTEL_ALLOW_PRIVATE_WEBHOOKS=1) so the page never stores a target the sensor would refuse.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

try:  # pragma: no cover - depends on the alerts work having landed
    from pm_sensors.alerts.targets import WebhookTargetError, mask_webhook_url, validate_webhook_url
except ImportError:

    class WebhookTargetError(ValueError):  # type: ignore[no-redef]
        """A webhook target that must not be stored; the message says why, without the secret parts."""

    def _private_allowed() -> bool:
        return os.environ.get("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "").strip().lower() in ("1", "true", "yes")

    def _is_private(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return not ip.is_global or ip.is_multicast

    def validate_webhook_url(url: str) -> str:  # type: ignore[no-redef]
        url = (url or "").strip()
        parts = urlsplit(url)
        allow_private = _private_allowed()
        if parts.scheme not in (("https", "http") if allow_private else ("https",)):
            raise WebhookTargetError("webhook URL must start with https://")
        if not parts.hostname:
            raise WebhookTargetError("webhook URL has no host")
        if parts.username or parts.password:
            raise WebhookTargetError("webhook URL must not carry a user or password")
        if allow_private:
            return url
        host = parts.hostname
        if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
            raise WebhookTargetError(f"webhook host {host} is local; set PM_INTEL_ALLOW_PRIVATE_WEBHOOKS=1 to allow")
        try:
            addresses = [host] if _is_ip(host) else [i[4][0] for i in socket.getaddrinfo(host, None)]
        except socket.gaierror:
            addresses = []  # unresolvable here; the sender checks again at delivery time
        for address in addresses:
            if _is_private(address.split("%")[0]):
                raise WebhookTargetError(
                    f"webhook host {host} resolves to a private or loopback address; "
                    "set PM_INTEL_ALLOW_PRIVATE_WEBHOOKS=1 to allow")
        return url

    def _is_ip(host: str) -> bool:
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            return False

    def mask_webhook_url(url: str) -> str:  # type: ignore[no-redef]
        """Scheme and host only: paths and queries of Slack/Discord hooks are the secret."""
        parts = urlsplit(url or "")
        return f"{parts.scheme}://{parts.hostname}/***" if parts.hostname else "***"


try:  # pragma: no cover - the alerts engineer's test-send, if present (httpx only, no Dagster)
    from pm_sensors.alerts.messages import send_test_message
except ImportError:
    send_test_message = None

__all__ = ["WebhookTargetError", "mask_webhook_url", "send_test_message", "validate_webhook_url"]
