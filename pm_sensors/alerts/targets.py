"""Webhook targets: which URLs an alert may be posted to, and the addresses a post may connect to.

A webhook URL is a secret (Slack and Discord put the token in the path) and an outbound request to an
address the user typed (a server-side request forgery risk). So every target is https on port 443, on
public addresses only, with no credentials in it, unless PM_INTEL_ALLOW_PRIVATE_WEBHOOKS=1 (tests, a local
receiver) or the caller passes allow_private=True.

Checking and connecting must see the same address, or a DNS answer that changes between the two (DNS
rebinding) walks past the check. So `check_webhook_target` parses the URL with httpx's own parser (IDN hosts
become the punycode name httpx would connect to), resolves the host once, checks every address, and returns
a `CheckedTarget`; the sender connects only to those addresses (webhook.py). Dagster-free: the dashboards
import this module.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from pm_assets.storage.urls import mask_secrets, mask_webhook_url

ALLOW_PRIVATE_ENV = "PM_INTEL_ALLOW_PRIVATE_WEBHOOKS"
PUBLIC_PORT = 443
MAX_URL_CHARS = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]

# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; Python 3.11 calls it global.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# The only IPv6 unicast space allocated for the public internet (RFC 4291 §2.4); everything else
# (site-local fec0::/10, local-use NAT64 64:ff9b:1::/48, future special ranges) is refused.
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$"
)


class WebhookTargetError(ValueError):
    """A webhook URL that may not be used; the message names the rule broken and never the secret path.

    `transient` is True when the URL may become valid by itself (its host did not resolve just now).
    """

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class CheckedTarget:
    """A webhook URL that passed the checks, with the only addresses a post to it may connect to."""

    url: str  # as given, stripped: what is stored and what the secret is
    parsed: httpx.URL
    host: str  # the ASCII (punycode) host httpx sends, lower-case, without brackets
    port: int
    addresses: tuple[str, ...]  # every address the host resolved to, each one checked

    @property
    def masked(self) -> str:
        return mask_webhook_url(self.url)

    @property
    def is_ip_literal(self) -> bool:
        return _ip_or_none(self.host) is not None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.parsed.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def sni_hostname(self) -> str | None:
        """The name TLS sends and verifies the certificate against (None for an IP literal)."""
        return None if self.is_ip_literal else self.host.rstrip(".")

    def url_for(self, address: str) -> httpx.URL:
        """The request URL with the checked address in place of the name: nothing resolves it again."""
        return self.parsed.copy_with(host=address, port=self.port)


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
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ]
    for name, hit in checks:
        if hit:
            return f"{name} address {address}"
    if not address.is_global:
        return f"non-public address {address}"
    if (
        isinstance(address, ipaddress.IPv6Address)
        and address not in _GLOBAL_UNICAST_V6
        and address not in _NAT64
    ):
        return f"non-public address {address} (outside global unicast 2000::/3)"
    return None


def check_webhook_target(
    url: str, *, allow_private: bool | None = None, resolver: Resolver | None = None
) -> CheckedTarget:
    """The target with its checked addresses, or WebhookTargetError saying which rule it breaks.

    Rules: an http(s) URL httpx accepts, at most 2048 characters, no control characters, no user:password;
    unless allow_private (default: the PM_INTEL_ALLOW_PRIVATE_WEBHOOKS setting): https, port 443, and every
    address the host resolves to public (IPv4 and IPv6, IPv4-mapped/6to4/Teredo/NAT64 included). The host
    is resolved once, here, in the form httpx sends it; a post connects only to these addresses.
    """
    if allow_private is None:
        allow_private = private_webhooks_allowed()
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise WebhookTargetError("webhook URL is empty")
    if len(text) > MAX_URL_CHARS:
        raise WebhookTargetError(f"webhook URL is longer than {MAX_URL_CHARS} characters")
    masked = mask_webhook_url(text)
    if any(_is_control_or_space(ch) for ch in text):
        raise WebhookTargetError(f"webhook URL contains whitespace or control characters ({masked})")
    try:
        parsed = httpx.URL(text)
        host = parsed.raw_host.decode("ascii").lower()
        port = parsed.port
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise WebhookTargetError(f"webhook URL is not a valid URL ({masked})") from exc
    scheme = parsed.scheme
    if scheme not in ("http", "https"):
        raise WebhookTargetError(f"webhook URL must start with https:// ({masked})")
    if scheme == "http" and not allow_private:
        raise WebhookTargetError(
            f"webhook URL must use https, not http ({masked}); set {ALLOW_PRIVATE_ENV}=1 for local receivers"
        )
    if parsed.userinfo:
        raise WebhookTargetError(f"webhook URL must not carry a user or password ({masked})")
    if not host:
        raise WebhookTargetError(f"webhook URL has no host ({masked})")
    if _ip_or_none(host) is None and not _HOSTNAME.match(host):
        raise WebhookTargetError(f"webhook URL's host is not a valid host name ({masked})")
    port = port if port is not None else (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise WebhookTargetError(f"webhook URL's port {port} is not a valid port ({masked})")
    if port != PUBLIC_PORT and not allow_private:
        raise WebhookTargetError(
            f"webhook URL must use port {PUBLIC_PORT}, not {port} ({masked}); "
            f"set {ALLOW_PRIVATE_ENV}=1 for local receivers"
        )
    addresses = _resolved_addresses(host, port, resolver, masked)
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                raise WebhookTargetError(
                    f"webhook host {host} resolves to a {problem}; only public addresses are allowed "
                    f"({masked}); set {ALLOW_PRIVATE_ENV}=1 to allow private targets"
                )
    return CheckedTarget(
        url=text,
        parsed=parsed,
        host=host,
        port=port,
        addresses=tuple(dict.fromkeys(str(a) for a in addresses)),
    )


def validate_webhook_url(
    url: str, *, allow_private: bool | None = None, resolver: Resolver | None = None
) -> str:
    """The URL, stripped, if alerts may be posted to it; else WebhookTargetError (see check_webhook_target)."""
    return check_webhook_target(url, allow_private=allow_private, resolver=resolver).url


def _is_control_or_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")


def _ip_or_none(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolved_addresses(host: str, port: int, resolver: Resolver | None, masked: str) -> list[IPAddress]:
    literal = _ip_or_none(host)
    if literal is not None:
        return [literal]
    try:
        raw = list((resolver or system_resolver)(host, port))
    except (OSError, UnicodeError, ValueError) as exc:
        raise WebhookTargetError(
            f"webhook host {host} does not resolve ({masked}): {mask_secrets(str(exc))[:200]}", transient=True
        ) from exc
    if not raw:
        raise WebhookTargetError(f"webhook host {host} resolves to no address ({masked})")
    addresses = []
    for item in raw:
        parsed = _ip_or_none(str(item).split("%", 1)[0])
        if parsed is None:
            raise WebhookTargetError(f"webhook host {host} resolves to an unusable address ({masked})")
        addresses.append(parsed)
    return addresses


__all__ = [
    "ALLOW_PRIVATE_ENV",
    "CheckedTarget",
    "WebhookTargetError",
    "address_problem",
    "check_webhook_target",
    "mask_webhook_url",
    "private_webhooks_allowed",
    "system_resolver",
    "validate_webhook_url",
]
