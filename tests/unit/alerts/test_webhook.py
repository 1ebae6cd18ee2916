"""post_webhook's retry rules, with an httpx MockTransport."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from pm_sensors.alerts.targets import check_webhook_target
from pm_sensors.alerts.webhook import post_webhook, retry_after_seconds

URL = check_webhook_target(
    "https://hooks.example.com/services/T0/sekrit",
    allow_private=False,
    resolver=lambda host, port: ["34.1.2.3"],
)


def client_answering(*responses):
    seen = []
    queue = list(responses)

    def handler(request):
        seen.append(request)
        item = queue.pop(0) if queue else httpx.Response(200)
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def test_success_first_time_posts_json():
    client, seen = client_answering(httpx.Response(204))
    outcome = post_webhook(client, URL, {"text": "hi"}, sleep=lambda s: None)
    assert outcome.ok and outcome.attempts == 1 and seen[0].read() == b'{"text":"hi"}'


def test_5xx_and_transport_errors_are_retried():
    client, seen = client_answering(httpx.Response(502), httpx.ConnectError("refused"), httpx.Response(200))
    waits = []
    outcome = post_webhook(client, URL, {}, max_attempts=3, sleep=waits.append)
    assert outcome.ok and outcome.attempts == 3 and len(waits) == 2


def test_attempts_are_bounded_and_the_error_is_masked():
    client, seen = client_answering(*[httpx.Response(500, text=f"bad {URL}")] * 5)
    outcome = post_webhook(client, URL, {}, max_attempts=3, sleep=lambda s: None)
    assert not outcome.ok and outcome.retryable and outcome.attempts == 3 and len(seen) == 3
    assert "sekrit" not in outcome.error and "https://hooks.example.com/***" in outcome.error


def test_4xx_is_not_retried_but_429_is_with_retry_after():
    client, seen = client_answering(httpx.Response(403))
    outcome = post_webhook(client, URL, {}, sleep=lambda s: None)
    assert not outcome.ok and not outcome.retryable and len(seen) == 1

    client, seen = client_answering(httpx.Response(429, headers={"Retry-After": "1.5"}), httpx.Response(200))
    waits = []
    assert post_webhook(client, URL, {}, sleep=waits.append).ok and waits == [1.5]


def test_redirects_are_not_followed():
    client, seen = client_answering(httpx.Response(302, headers={"Location": "http://169.254.169.254/"}))
    outcome = post_webhook(client, URL, {}, sleep=lambda s: None)
    assert not outcome.ok and not outcome.retryable and "redirect" in outcome.error and len(seen) == 1


def test_no_retry_waits_past_the_deadline():
    client, seen = client_answering(httpx.Response(503), httpx.Response(200))
    outcome = post_webhook(
        client, URL, {}, deadline=time.monotonic() + 1.0, timeout_s=5.0, sleep=lambda s: None
    )
    assert not outcome.ok and outcome.retryable and len(seen) == 1


def test_retry_after_parses_seconds_and_http_dates():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("30") == 30.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert retry_after_seconds("garbage") is None and retry_after_seconds(None) is None
