"""The HTTP core every Polymarket client shares: pacing under published limits, retries, validation.

Polymarket enforces its limits by Cloudflare throttling over 10-second sliding windows, with 429s (and
403 HTML block pages) under heavy pagination (polymarket-api.md §5). So each client:
- paces itself under a per-endpoint budget (a fraction of the published limit), and slows down further
  (adaptive factor) when responses slow, 429 or 403 appear; `Retry-After` pauses every request;
- retries 5xx, timeouts, 429 and 403 with jittered exponential backoff, up to a bound;
- validates responses with pydantic, naming the endpoint and the field on failure, and hands the raw
  body of a bad payload to a quarantine sink instead of dropping it.
Callers get validated models and a `RequestStats` to report as run metadata.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import orjson
import pydantic

from pm_assets.resources.upstream_json import loads_upstream_json

log = logging.getLogger(__name__)

T = TypeVar("T")
WINDOW_S = 10.0
# The largest answer read (decoded): Polymarket's biggest legitimate pages (POST /books with 500 books,
# Gamma pages of full market objects) are a few MB; past this a response is refused, not buffered.
MAX_BODY_BYTES = 32 * 1024 * 1024
# The longest Retry-After honoured: it pauses every request of the session, so a hostile or broken value
# (Retry-After: 86400000) must not stop ingestion for days. Longer asks wait this long, then retry.
MAX_RETRY_AFTER_S = 60.0


class ApiError(RuntimeError):
    """An upstream call that failed for good; the message names the endpoint and what went wrong."""

    def __init__(
        self,
        endpoint: str,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
        unreachable: bool = False,
    ):
        super().__init__(f"{endpoint}: {message}")
        self.endpoint = endpoint
        self.status = status
        self.body = body
        # No answer at all (refused, DNS, timeout) on the last attempt, as opposed to an answer that was an error.
        self.unreachable = unreachable


class PayloadError(ApiError):
    """A response that arrived but does not match the contract (malformed JSON, schema drift, garbage)."""


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    blocked_403: int = 0
    server_errors: int = 0
    timeouts: int = 0
    quarantined: int = 0
    rate_limit_wait_s: float = 0.0

    def as_metadata(self) -> dict[str, float | int]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "http_429": self.throttled_429,
            "http_403": self.blocked_403,
            "http_5xx": self.server_errors,
            "timeouts": self.timeouts,
            "quarantined": self.quarantined,
            "rate_limit_wait_s": round(self.rate_limit_wait_s, 3),
        }


@dataclass(frozen=True)
class EndpointLimit:
    """A published limit: `limit` requests per 10 s for paths starting with `prefix`."""

    prefix: str
    limit: int


class AdaptivePacer:
    """Sliding-window pacing per endpoint, scaled by an adaptive factor.

    `headroom` keeps us under the published number (other clients may share the IP). The factor halves the
    budget on each 429/403 or very slow response and recovers slowly on success.
    """

    def __init__(self, limits: Sequence[EndpointLimit], general: int, headroom: float = 0.8):
        self._limits = sorted(limits, key=lambda lim: len(lim.prefix), reverse=True)
        self._general = general
        self._headroom = headroom
        self._sent: dict[str, deque[float]] = {}
        self._factor = 1.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def key_for(self, path: str) -> tuple[str, int]:
        for lim in self._limits:
            if path.startswith(lim.prefix):
                return lim.prefix, lim.limit
        return "*", self._general

    @property
    def factor(self) -> float:
        return self._factor

    def slow_down(self, retry_after_s: float | None = None) -> None:
        self._factor = max(0.05, self._factor * 0.5)
        if retry_after_s:
            self._paused_until = max(self._paused_until, time.monotonic() + retry_after_s)

    def speed_up(self) -> None:
        self._factor = min(1.0, self._factor * 1.05)

    async def acquire(self, path: str) -> float:
        """Wait until a request to `path` fits the budget; return the seconds waited."""
        key, limit = self.key_for(path)
        waited = 0.0
        while True:
            async with self._lock:
                now = time.monotonic()
                budget = max(1, int(limit * self._headroom * self._factor))
                general_budget = max(1, int(self._general * self._headroom * self._factor))
                sent = self._sent.setdefault(key, deque())
                general = self._sent.setdefault("*all*", deque())
                for q in (sent, general):
                    while q and now - q[0] >= WINDOW_S:
                        q.popleft()
                delay = max(0.0, self._paused_until - now)
                if len(sent) >= budget:
                    delay = max(delay, WINDOW_S - (now - sent[0]))
                if len(general) >= general_budget:
                    delay = max(delay, WINDOW_S - (now - general[0]))
                if delay <= 0:
                    sent.append(now)
                    general.append(now)
                    return waited
            await asyncio.sleep(delay)
            waited += delay


QuarantineSink = Callable[[str, Mapping[str, Any], int | None, str, str], None]
"""(endpoint, request params, status code, raw body, error) -> None; stores a payload that failed."""


def _retry_after_s(response: httpx.Response, cap_s: float = MAX_RETRY_AFTER_S) -> float | None:
    """Retry-After in seconds, clamped to [0, cap_s]; None when absent or not a number."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), cap_s)


class BodyTooLarge(Exception):
    """A response whose body passes the cap; it is not read further."""


async def _read_capped(response: httpx.Response, cap: int) -> httpx.Response:
    """The streamed response read into memory, or BodyTooLarge once it passes `cap` decoded bytes."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge(f"declared {int(declared):,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(f"more than {cap:,} bytes")
        chunks.append(chunk)
    # Decoded already: the copy must not claim an encoding or a length of the wire form.
    headers = [
        (k, v)
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        response.status_code, headers=headers, content=b"".join(chunks), request=response.request
    )


def validation_message(exc: pydantic.ValidationError) -> str:
    """One line naming each bad field by its path, e.g. `[3].price: Input should be a valid number`."""
    parts = []
    for err in exc.errors()[:5]:
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        parts.append(f"{loc or '<root>'}: {err['msg']}")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


@dataclass
class PolymarketHttp:
    """One API family's HTTP session (base URL, pacing, retries). Use as an async context manager."""

    base_url: str
    limits: Sequence[EndpointLimit]
    general_limit: int
    timeout_s: float = 20.0
    max_attempts: int = 6
    max_backoff_s: float = 30.0
    max_body_bytes: int = MAX_BODY_BYTES
    max_retry_after_s: float = MAX_RETRY_AFTER_S
    quarantine: QuarantineSink | None = None
    transport: httpx.AsyncBaseTransport | None = None  # tests inject httpx.MockTransport
    stats: RequestStats = field(default_factory=RequestStats)
    _client: httpx.AsyncClient | None = None
    _pacer: AdaptivePacer | None = None

    async def __aenter__(self) -> PolymarketHttp:
        self._pacer = AdaptivePacer(self.limits, self.general_limit)
        self._client = httpx.AsyncClient(
            base_url=self.base_url.rstrip("/"),
            http2=self.base_url.startswith("https"),
            timeout=httpx.Timeout(self.timeout_s, connect=10.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            headers={"user-agent": "pm-intel/0.1", "accept": "application/json"},
            transport=self.transport,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> httpx.Response:
        assert self._client is not None and self._pacer is not None, "use `async with` first"
        endpoint = f"{method} {path}"
        last_error, unreachable = "no attempt made", False
        for attempt in range(1, self.max_attempts + 1):
            self.stats.rate_limit_wait_s += await self._pacer.acquire(path)
            self.stats.requests += 1
            started = time.monotonic()
            retry_after: float | None = None
            request = self._client.build_request(
                method,
                path,
                params=params,
                content=None if body is None else orjson.dumps(body),
                headers=None if body is None else {"content-type": "application/json"},
            )
            try:
                streamed = await self._client.send(request, stream=True)
                try:
                    response = await _read_capped(streamed, self.max_body_bytes)
                finally:
                    await streamed.aclose()
            except BodyTooLarge as exc:
                log.error("%s: response body refused: %s (cap %d bytes)", endpoint, exc, self.max_body_bytes)
                raise ApiError(
                    endpoint, f"response body too large: {exc} (cap {self.max_body_bytes:,} bytes)"
                ) from None
            except httpx.TimeoutException:
                self.stats.timeouts += 1
                self._pacer.slow_down()
                last_error, unreachable = f"timed out after {self.timeout_s:.0f} s", True
            except httpx.TransportError as exc:
                last_error, unreachable = f"connection failed: {type(exc).__name__}", True
            else:
                unreachable = False
                status = response.status_code
                if status < 400 or (400 <= status < 500 and status not in (403, 408, 425, 429)):
                    if time.monotonic() - started > self.timeout_s / 2:
                        self._pacer.slow_down()
                    else:
                        self._pacer.speed_up()
                    return response
                retry_after = _retry_after_s(response, self.max_retry_after_s)
                if status == 429:
                    self.stats.throttled_429 += 1
                elif status == 403:
                    self.stats.blocked_403 += 1
                elif status >= 500:
                    self.stats.server_errors += 1
                self._pacer.slow_down(retry_after if status in (429, 403) else None)
                block_page = "<html" in response.text[:200].lower()
                last_error = f"HTTP {status}" + (" (Cloudflare block page)" if block_page else "")
            if attempt == self.max_attempts:
                break
            self.stats.retries += 1
            backoff = (
                retry_after if retry_after is not None else min(self.max_backoff_s, 0.5 * 2 ** (attempt - 1))
            )
            backoff = backoff + random.uniform(0, min(1.0, backoff / 2))
            log.warning(
                "%s %s; retry %d/%d in %.1f s", endpoint, last_error, attempt, self.max_attempts - 1, backoff
            )
            await asyncio.sleep(backoff)
        raise ApiError(
            endpoint, f"gave up after {self.max_attempts} attempts: {last_error}", unreachable=unreachable
        )

    async def request_json(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> tuple[int, Any, str]:
        """(status, parsed JSON, raw text). Non-2xx answers that are final (e.g. 400, 404) are returned."""
        response = await self._send(method, path, params, body)
        text = response.text
        try:
            return response.status_code, loads_upstream_json(text) if text else None, text
        except orjson.JSONDecodeError as exc:
            error = f"response is not valid JSON ({exc})"
            self._quarantine(f"{method} {path}", params, response.status_code, text, error)
            raise PayloadError(f"{method} {path}", error, status=response.status_code, body=text) from None

    def parse(
        self,
        endpoint: str,
        adapter: pydantic.TypeAdapter[T],
        data: Any,
        raw: str,
        params: Mapping[str, Any] | None = None,
        status: int | None = None,
    ) -> T:
        """Validate `data`; on failure quarantine the raw body and raise PayloadError naming the fields."""
        try:
            return adapter.validate_python(data)
        except pydantic.ValidationError as exc:
            error = validation_message(exc)
            self._quarantine(endpoint, params, status, raw, error)
            raise PayloadError(
                endpoint, f"payload does not match the contract: {error}", status=status
            ) from None

    def _quarantine(
        self, endpoint: str, params: Mapping[str, Any] | None, status: int | None, raw: str, error: str
    ) -> None:
        self.stats.quarantined += 1
        log.error("%s: quarantined a bad payload (%d bytes): %s", endpoint, len(raw), error)
        if self.quarantine is not None:
            self.quarantine(endpoint, dict(params or {}), status, raw, error)


async def gather_bounded(factories: Sequence[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    """Run coroutine factories with at most `concurrency` in flight, results in order."""
    semaphore = asyncio.Semaphore(concurrency)

    async def run(factory: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await factory()

    return list(await asyncio.gather(*(run(f) for f in factories)))


# Published limits per 10 s (polymarket-api.md §5 and L.5).
GAMMA_LIMITS = [
    EndpointLimit("/markets", 300),
    EndpointLimit("/events", 500),
]
GAMMA_GENERAL = 4000
CLOB_LIMITS = [
    EndpointLimit("/book", 1500),
    EndpointLimit("/books", 500),
    EndpointLimit("/price", 1500),
    EndpointLimit("/prices-history", 1000),
    EndpointLimit("/prices", 500),
    EndpointLimit("/midpoint", 1500),
    EndpointLimit("/midpoints", 500),
    EndpointLimit("/tick-size", 200),
]
CLOB_GENERAL = 9000
DATA_LIMITS = [
    EndpointLimit("/v2/trades", 300),
    EndpointLimit("/v2/positions", 200),
    EndpointLimit("/v2/activity", 200),
    EndpointLimit("/v2/prices-history", 200),
    EndpointLimit("/trades", 200),
    EndpointLimit("/positions", 150),
]
DATA_GENERAL = 800
