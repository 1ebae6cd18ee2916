"""Webhook target rules: https only, public addresses only (unless allowed), secrets never shown."""

from __future__ import annotations

import pytest

from pm_assets.storage.urls import mask_secrets, mask_webhook_url
from pm_sensors.alerts.targets import WebhookTargetError, validate_webhook_url

SLACK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


def resolves_to(*addresses):
    def resolver(host, port):
        return list(addresses)

    return resolver


def rejected(url, **kwargs) -> str:
    kwargs.setdefault("allow_private", False)
    with pytest.raises(WebhookTargetError) as info:
        validate_webhook_url(url, **kwargs)
    return str(info.value)


def test_public_https_target_is_accepted_and_stripped():
    assert validate_webhook_url(f"  {SLACK} ", allow_private=False, resolver=resolves_to("34.1.2.3")) == SLACK


def test_http_is_rejected_unless_private_targets_are_allowed():
    message = rejected("http://hooks.example.com/x", resolver=resolves_to("34.1.2.3"))
    assert "https" in message and "PM_INTEL_ALLOW_PRIVATE_WEBHOOKS" in message
    assert validate_webhook_url("http://127.0.0.1:9/hook", allow_private=True) == "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/x", "hooks.example.com/x", "", "javascript:alert(1)"]
)
def test_non_http_schemes_and_empty_urls_are_rejected(url):
    rejected(url, resolver=resolves_to("34.1.2.3"))


def test_credentials_in_url_are_rejected_without_echoing_them():
    message = rejected("https://user:hunter2@hooks.example.com/x", resolver=resolves_to("34.1.2.3"))
    assert "user or password" in message and "hunter2" not in message


@pytest.mark.parametrize(
    ("address", "word"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.5", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"),
    ],
)
def test_non_public_resolved_addresses_are_rejected(address, word):
    message = rejected("https://hooks.example.com/secret-path", resolver=resolves_to(address))
    assert word in message
    assert "secret-path" not in message


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:7f00:1]", "2130706433", "localhost"])
def test_literal_and_disguised_loopback_hosts_are_rejected(host):
    rejected(f"https://{host}/hook")


def test_every_resolved_address_is_checked_not_just_the_first():
    message = rejected("https://hooks.example.com/x", resolver=resolves_to("34.1.2.3", "2600::1", "10.0.0.7"))
    assert "10.0.0.7" in message


def test_unresolvable_host_is_rejected():
    def fails(host, port):
        raise OSError("Name or service not known")

    assert "does not resolve" in rejected("https://nowhere.invalid/x", resolver=fails)


def test_env_setting_allows_private_targets_and_http(monkeypatch):
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")
    assert validate_webhook_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook"
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "0")
    with pytest.raises(WebhookTargetError):
        validate_webhook_url("http://127.0.0.1:8080/hook")
    with pytest.raises(WebhookTargetError):
        validate_webhook_url("https://127.0.0.1:8080/hook")


def test_explicit_argument_wins_over_env(monkeypatch):
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")
    with pytest.raises(WebhookTargetError):
        validate_webhook_url("https://10.0.0.1/hook", allow_private=False)


def test_mask_keeps_scheme_and_host_only():
    assert mask_webhook_url(SLACK) == "https://hooks.slack.com/***"
    assert mask_webhook_url("https://discord.com/api/webhooks/123/tok?wait=true") == "https://discord.com/***"
    assert mask_webhook_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/***"
    assert mask_webhook_url("https://u:pw@example.com") == "https://example.com/***"
    assert mask_webhook_url("https://example.com") == "https://example.com/"
    assert mask_webhook_url("http://[::1]:9/x") == "http://[::1]:9/***"
    assert mask_webhook_url(None) == "<unset>"
    assert mask_webhook_url("not a url") == "<invalid webhook URL>"


def test_mask_urls_in_free_text():
    text = f"Server error '500' for url '{SLACK}' after 3 attempts"
    masked = mask_secrets(text)
    assert "XXXXsecretXXXX" not in masked and "https://hooks.slack.com/***" in masked
