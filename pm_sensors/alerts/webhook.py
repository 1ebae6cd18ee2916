"""Posting one payload to one checked webhook target, with bounded retries, and an outcome whose error is masked.

Retried: transport errors, 408, 429 (waiting Retry-After) and 5xx. Not retried: other 4xx (a bad
payload or a revoked webhook will not heal). Redirects are not followed: a webhook that redirects could
point the request at an address the target validation never saw.

A post connects only to the addresses `check_webhook_target` resolved and checked: the request URL carries
the address, the Host header and the TLS server name (SNI, which the certificate is verified against) carry
the host name, so nothing resolves the name a second time. Errors name the target masked and say only
"HTTP <code>" or "no HTTP answer": which of refused, reset, TLS failure or timeout it was stays in no
message a user reads, so a webhook form is not a port scanner.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from pm_assets.storage.urls import mask_secrets
from pm_sensors.alerts.targets import CheckedTarget

log = logging.getLogger(__name__)

USER_AGENT = "pm-intel-alerts/1"
# Only the status matters; a target that answers with megabytes is not read past this.
MAX_RESPONSE_BYTES = 64 * 1024


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


def webhook_client(**kwargs: Any) -> httpx.Client:
    """A client for webhook posts: no proxy from the environment (a proxy would resolve the name itself,
    undoing the pinned address), no redirects."""
    return httpx.Client(trust_env=False, follow_redirects=False, **kwargs)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _send_pinned(
    client: httpx.Client, target: CheckedTarget, payload: Any, timeout_s: float
) -> httpx.Response:
    """POST to the first checked address that accepts a connection; read at most MAX_RESPONSE_BYTES."""
    headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
    last: httpx.ConnectError | None = None
    for address in target.addresses:
        request = client.build_request(
            "POST",
            target.url_for(address),
            json=payload,
            headers=headers,
            extensions=extensions,
            timeout=timeout_s,
        )
        try:
            response = client.send(request, follow_redirects=False, stream=True)
        except httpx.ConnectError as exc:  # the next checked address may answer
            last = exc
            continue
        try:
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size >= MAX_RESPONSE_BYTES:
                    break
        finally:
            response.close()
        return response
    assert last is not None
    raise last


def _attempt(client: httpx.Client, target: CheckedTarget, payload: Any, timeout_s: float) -> PostOutcome:
    masked = target.masked
    try:
        response = _send_pinned(client, target, payload, timeout_s)
    except httpx.HTTPError as exc:
        log.info("webhook post to %s: %s: %s", masked, type(exc).__name__, mask_secrets(str(exc))[:300])
        raise _Retryable(
            PostOutcome(False, 1, None, f"no HTTP answer from {masked}", retryable=True)
        ) from None
    except Exception as exc:  # an unexpected error is one failed post, never a crashed caller
        log.warning(
            "webhook post to %s failed: %s: %s", masked, type(exc).__name__, mask_secrets(str(exc))[:300]
        )
        return PostOutcome(False, 1, None, f"could not post to {masked} ({type(exc).__name__})")
    code = response.status_code
    if 200 <= code < 300:
        return PostOutcome(True, 1, code)
    error = f"HTTP {code} from {masked}"
    if code == 429 or code == 408 or code >= 500:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise _Retryable(PostOutcome(False, 1, code, error, retryable=True, retry_after_s=retry_after))
    if 300 <= code < 400:
        error = f"HTTP {code} redirect from {masked} not followed; use the final webhook URL"
    return PostOutcome(False, 1, code, error, retryable=False)


def post_webhook(
    client: httpx.Client,
    target: CheckedTarget,
    payload: Any,
    *,
    max_attempts: int = 3,
    deadline: float | None = None,
    timeout_s: float = 10.0,
    base_wait_s: float = 0.25,
    max_wait_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PostOutcome:
    """POST `payload` as JSON to the target's checked addresses; up to `max_attempts` tries, never waiting
    past `deadline` (time.monotonic).

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
        return _attempt(client, target, payload, timeout_s)

    retrying = Retrying(
        stop=stop, wait=wait, sleep=sleep, retry=retry_if_exception_type(_Retryable), reraise=True
    )
    try:
        result = retrying(once)
    except _Retryable as exc:
        last = exc.outcome
        return PostOutcome(False, attempts, last.status_code, last.error, True, last.retry_after_s)
    return PostOutcome(result.ok, attempts, result.status_code, result.error, result.retryable)
