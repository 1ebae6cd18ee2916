"""Posting one payload to one webhook, with bounded retries, and an outcome whose error text is masked.

Retried: transport errors, 408, 429 (waiting Retry-After) and 5xx. Not retried: other 4xx (a bad
payload or a revoked webhook will not heal). Redirects are not followed: a webhook that redirects could
point the request at an address the target validation never saw.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from pm_sensors.alerts.targets import mask_urls_in_text, mask_webhook_url

USER_AGENT = "pm-intel-alerts/1"


@dataclass(frozen=True)
class PostOutcome:
    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None  # masked, safe for logs and the database
    retryable: bool = False  # a later attempt may succeed
    retry_after_s: float | None = None  # what the server asked for, if it did


class _Retryable(Exception):
    def __init__(self, outcome: PostOutcome):
        super().__init__(outcome.error)
        self.outcome = outcome


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _attempt(client: httpx.Client, url: str, payload: Any, timeout_s: float) -> PostOutcome:
    masked = mask_webhook_url(url)
    try:
        response = client.post(
            url, json=payload, timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )
    except httpx.HTTPError as exc:
        detail = mask_urls_in_text(str(exc)) or type(exc).__name__
        raise _Retryable(
            PostOutcome(False, 1, None, f"{type(exc).__name__} posting to {masked}: {detail}", retryable=True)
        ) from None
    code = response.status_code
    if 200 <= code < 300:
        return PostOutcome(True, 1, code)
    body = mask_urls_in_text(response.text[:200].strip())
    error = f"HTTP {code} from {masked}" + (f": {body}" if body else "")
    if code == 429 or code == 408 or code >= 500:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise _Retryable(PostOutcome(False, 1, code, error, retryable=True, retry_after_s=retry_after))
    if 300 <= code < 400:
        error = f"HTTP {code} redirect from {masked} not followed; use the final webhook URL"
    return PostOutcome(False, 1, code, error, retryable=False)


def post_webhook(
    client: httpx.Client,
    url: str,
    payload: Any,
    *,
    max_attempts: int = 3,
    deadline: float | None = None,
    timeout_s: float = 10.0,
    base_wait_s: float = 0.25,
    max_wait_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PostOutcome:
    """POST `payload` as JSON; up to `max_attempts` tries, never waiting past `deadline` (time.monotonic).

    A Retry-After longer than max_wait_s or than the time left ends the tries early; the outcome carries
    it so the caller can schedule the next attempt for later instead of blocking.
    """
    attempts = 0

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome.exception().outcome  # type: ignore[union-attr]
        if outcome.retry_after_s is not None:
            return outcome.retry_after_s
        backoff = min(max_wait_s, base_wait_s * 2 ** (state.attempt_number - 1))
        return backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= max_attempts:
            return True
        next_wait = wait(state)
        if next_wait > max_wait_s:
            return True
        return deadline is not None and time.monotonic() + next_wait + timeout_s > deadline

    def once() -> PostOutcome:
        nonlocal attempts
        attempts += 1
        return _attempt(client, url, payload, timeout_s)

    retrying = Retrying(
        stop=stop, wait=wait, sleep=sleep, retry=retry_if_exception_type(_Retryable), reraise=True
    )
    try:
        result = retrying(once)
    except _Retryable as exc:
        last = exc.outcome
        return PostOutcome(False, attempts, last.status_code, last.error, True, last.retry_after_s)
    return PostOutcome(result.ok, attempts, result.status_code, result.error, result.retryable)
