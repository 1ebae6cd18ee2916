"""Webhook targets: which URLs an alert may be posted to, and how a webhook URL appears in logs.

A webhook URL is a secret (Slack and Discord put the token in the path) and an outbound request to an
address the user typed (a server-side request forgery risk). So every target is https, on a public
address, with no credentials in it, unless PM_INTEL_ALLOW_PRIVATE_WEBHOOKS=1 (tests, a local receiver)
or the caller passes allow_private=True. Dagster-free: the dashboards import this module.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

ALLOW_PRIVATE_ENV = "PM_INTEL_ALLOW_PRIVATE_WEBHOOKS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]

# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; Python 3.11 calls it global.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_URL_IN_TEXT = re.compile(r"https?://[^\s'\"<>]+", re.IGNORECASE)


class WebhookTargetError(ValueError):
    """A webhook URL that may not be used; the message names the rule broken and never the secret path.

    `transient` is True when the URL may become valid by itself (its host did not resolve just now).
    """

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def private_webhooks_allowed(env: dict[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(ALLOW_PRIVATE_ENV, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA), as getaddrinfo gives them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


def address_problem(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address (None when it is one)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (address.teredo[1] if address.teredo else None) or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner:
                return f"{inner} (embedded in IPv6 {address})"
    checks = [
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ]
    for name, hit in checks:
        if hit:
            return f"{name} address {address}"
    if not address.is_global:
        return f"non-public address {address}"
    return None


def validate_webhook_url(
    url: str, *, allow_private: bool | None = None, resolver: Resolver | None = None
) -> str:
    """The URL, stripped, if alerts may be posted to it; else WebhookTargetError saying why.

    Rules: http(s) URL with a host and no user:password part; https only and every resolved address public
    (IPv4 and IPv6, IPv4-mapped/6to4/Teredo/NAT64 included), unless allow_private (default: the
    PM_INTEL_ALLOW_PRIVATE_WEBHOOKS setting), which permits http and private/loopback targets.
    """
    if allow_private is None:
        allow_private = private_webhooks_allowed()
    text = (url or "").strip()
    if not text:
        raise WebhookTargetError("webhook URL is empty")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise WebhookTargetError(f"webhook URL is not a valid URL ({mask_webhook_url(text)})") from exc
    scheme = parts.scheme.lower()
    masked = mask_webhook_url(text)
    if scheme not in ("http", "https"):
        raise WebhookTargetError(f"webhook URL must start with https:// ({masked})")
    if scheme == "http" and not allow_private:
        raise WebhookTargetError(
            f"webhook URL must use https, not http ({masked}); set {ALLOW_PRIVATE_ENV}=1 for local receivers"
        )
    if parts.username is not None or parts.password is not None:
        raise WebhookTargetError(f"webhook URL must not carry a user or password ({masked})")
    host = parts.hostname
    if not host:
        raise WebhookTargetError(f"webhook URL has no host ({masked})")
    if any(ch.isspace() for ch in text):
        raise WebhookTargetError(f"webhook URL contains whitespace ({masked})")
    if allow_private:
        return text
    for address in _resolved_addresses(host, port or (443 if scheme == "https" else 80), resolver, masked):
        problem = address_problem(address)
        if problem:
            raise WebhookTargetError(
                f"webhook host {host} resolves to a {problem}; only public addresses are allowed "
                f"({masked}); set {ALLOW_PRIVATE_ENV}=1 to allow private targets"
            )
    return text


def _resolved_addresses(host: str, port: int, resolver: Resolver | None, masked: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        raw = list((resolver or system_resolver)(host, port))
    except (OSError, UnicodeError) as exc:
        raise WebhookTargetError(
            f"webhook host {host} does not resolve ({masked}): {exc}", transient=True
        ) from exc
    if not raw:
        raise WebhookTargetError(f"webhook host {host} resolves to no address ({masked})")
    addresses = []
    for item in raw:
        try:
            addresses.append(ipaddress.ip_address(item))
        except ValueError as exc:
            raise WebhookTargetError(f"webhook host {host} resolves to an unusable address {item!r}") from exc
    return addresses


def mask_webhook_url(url: str | None) -> str:
    """Scheme and host (and port) only: `https://hooks.slack.com/***`. Path, query and user are secrets."""
    if not url:
        return "<unset>"
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<invalid webhook URL>"
    if not parts.scheme or not host:
        return "<invalid webhook URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    hidden = bool(parts.path.strip("/") or parts.query or parts.fragment or parts.username or parts.password)
    return f"{parts.scheme.lower()}://{netloc}/{'***' if hidden else ''}"


def mask_urls_in_text(text: str) -> str:
    """Every http(s) URL inside free text (exception messages, logs) reduced to its masked form."""
    return _URL_IN_TEXT.sub(lambda m: mask_webhook_url(m.group(0)), text or "")
