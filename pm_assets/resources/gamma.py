"""Gamma API client: keyset crawls of markets and events, returning validated models.

Pacing, retries and quarantine come from the shared HTTP core (http.py). On top of it this client:
- follows `after_cursor` (the only cursor keyset routes honour; `cursor=` returns page 1 forever) and re-sends
  every filter on each page (polymarket-api.md §1.2);
- always sends `closed` (it defaults to false upstream) and `version` (an omitted one may mean v1 only, L.1);
- re-fetches a page whose body is not JSON or whose envelope is garbage (a proxy hiccup), quarantining each
  bad body; a single bad item is quarantined and skipped, the rest of its page is kept.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import dagster as dg
import httpx
import pydantic

from pm_assets.markets.models import GammaEvent, GammaMarket, KeysetEnvelope
from pm_assets.resources.http import (
    GAMMA_GENERAL,
    GAMMA_LIMITS,
    ApiError,
    PayloadError,
    PolymarketHttp,
    QuarantineSink,
)
from pm_assets.resources.rows import validate_rows

DEFAULT_GAMMA_URL = "https://gamma-api.polymarket.com"
GENERATIONS = ("v1", "v2")
M = TypeVar("M", bound=pydantic.BaseModel)

_ENVELOPE = pydantic.TypeAdapter(KeysetEnvelope)
_MARKET = pydantic.TypeAdapter(GammaMarket)
_EVENT = pydantic.TypeAdapter(GammaEvent)


@dataclass
class KeysetPage(Generic[M]):
    """One validated page: good items, how many were quarantined, the filters that produced it."""

    items: list[M]
    rejected: int
    params: dict[str, Any]
    next_cursor: str | None


@dataclass
class GammaSession:
    http: PolymarketHttp
    page_size: int = 100
    payload_attempts: int = 4
    pages: int = field(default=0)

    @property
    def stats(self):
        return self.http.stats

    async def _page(self, path: str, params: Mapping[str, Any]) -> tuple[KeysetEnvelope, int]:
        endpoint = f"GET {path}"
        last: PayloadError | None = None
        for _ in range(self.payload_attempts):
            try:
                status, data, raw = await self.http.request_json("GET", path, params=params)
                if status >= 400:
                    raise ApiError(endpoint, f"HTTP {status}: {raw[:300]}", status=status, body=raw)
                return self.http.parse(endpoint, _ENVELOPE, data, raw, params, status), status
            except PayloadError as exc:
                last = exc
        raise ApiError(endpoint, f"no valid page after {self.payload_attempts} attempts: {last}")

    async def _crawl(
        self, path: str, kind: str, adapter: pydantic.TypeAdapter[M], params: Mapping[str, Any]
    ) -> AsyncIterator[KeysetPage[M]]:
        cursor: str | None = None
        while True:
            query = {**params, "limit": self.page_size}
            if cursor:
                query["after_cursor"] = cursor
            envelope, status = await self._page(path, query)
            self.pages += 1
            rows = validate_rows(
                self.http,
                f"GET {path}",
                adapter,
                getattr(envelope, kind) or [],
                label=kind,
                params=query,
                status=status,
            )
            yield KeysetPage(rows.rows, len(rows.rejected), dict(params), envelope.next_cursor)
            if not envelope.next_cursor or envelope.next_cursor == cursor:
                return
            cursor = envelope.next_cursor

    def markets(
        self, *, closed: bool, version: str, **filters: Any
    ) -> AsyncIterator[KeysetPage[GammaMarket]]:
        # Gamma leaves a market's tags out unless asked; alert rules route by them.
        params = {"closed": str(closed).lower(), "version": version, "include_tag": "true", **filters}
        return self._crawl("/markets/keyset", "markets", _MARKET, params)

    def events(self, *, closed: bool, version: str, **filters: Any) -> AsyncIterator[KeysetPage[GammaEvent]]:
        params = {"closed": str(closed).lower(), "version": version, **filters}
        return self._crawl("/events/keyset", "events", _EVENT, params)


class GammaClient(dg.ConfigurableResource):
    """Gamma API (markets, events). `base_url` unset: POLYMARKET_GAMMA_URL at launch, else the live host."""

    base_url: str | None = None
    page_size: int = 100
    timeout_s: float = 20.0
    max_attempts: int = 6
    payload_attempts: int = 4
    max_backoff_s: float = 30.0

    def resolved_url(self) -> str:
        return self.base_url or os.environ.get("POLYMARKET_GAMMA_URL") or DEFAULT_GAMMA_URL

    def session(
        self, quarantine: QuarantineSink | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> _SessionContext:
        http = PolymarketHttp(
            base_url=self.resolved_url(),
            limits=GAMMA_LIMITS,
            general_limit=GAMMA_GENERAL,
            timeout_s=self.timeout_s,
            max_attempts=self.max_attempts,
            max_backoff_s=self.max_backoff_s,
            quarantine=quarantine,
            transport=transport,
        )
        return _SessionContext(GammaSession(http, min(100, self.page_size), self.payload_attempts))


@dataclass
class _SessionContext:
    session: GammaSession

    async def __aenter__(self) -> GammaSession:
        await self.session.http.__aenter__()
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        await self.session.http.__aexit__(*exc)
