"""The Data API client (v2 first): trades, a wallet's activity, market resolutions.

v2 is the contract (polymarket-api.md L.2): `{data, pagination}` envelopes, cursor pages (`next_cursor`
passed back unchanged as `cursor` until null; `limit` is ignored once a cursor is sent), `condition` takes
at most 20 ids. v1 (`/trades` with its offset cap of 3000) is being retired; it is read only when
`v1_fallback` (or PM_INTEL_DATA_V1_FALLBACK) is switched on and the v2 route is gone (404).

Pacing, retries and quarantine live in the shared HTTP core; this module adds the Data API's routes, its
page walk, and one more retry: a page whose payload is malformed (not JSON, a broken envelope) is quarantined
and asked for again (the same cursor), a bounded number of times. Rows are validated one by one: a bad trade
or resolution row is quarantined alone (endpoint `GET /v2/trades data[i]`, the failing field) and the rest of
its page is used. Activity pages stay whole: a wallet's age read from a page with a bad row would be a guess.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import dagster as dg
import httpx
import pydantic

from pm_assets.resources.http import (
    DATA_GENERAL,
    DATA_LIMITS,
    ApiError,
    PayloadError,
    PolymarketHttp,
    QuarantineSink,
)
from pm_assets.resources.rows import RejectedRow, ValidatedRows, quarantine_rejected, validate_rows
from pm_assets.trades.models import ActivityPage, Resolution, RowsEnvelope, Trade

DEFAULT_DATA_URL = "https://data-api.polymarket.com"
MAX_CONDITIONS = 20  # per request, upstream limit
V1_OFFSET_CAP = 3000
P = TypeVar("P")
R = TypeVar("R")

_ENVELOPE = pydantic.TypeAdapter(RowsEnvelope)
_ACTIVITY_PAGE = pydantic.TypeAdapter(ActivityPage)
_TRADE = pydantic.TypeAdapter(Trade)
_RESOLUTION = pydantic.TypeAdapter(Resolution)
_V1_ROWS = pydantic.TypeAdapter(list[Any])


class DataApiClient(dg.ConfigurableResource):
    """Polymarket Data API. `base_url` unset means POLYMARKET_DATA_URL, else the public host."""

    base_url: str | None = None
    page_limit: int = 1000
    timeout_s: float = 20.0
    max_attempts: int = 6
    max_backoff_s: float = 30.0
    payload_attempts: int = 4
    v1_fallback: bool | None = None  # None: PM_INTEL_DATA_V1_FALLBACK (off unless "1"/"true")

    def resolved_base_url(self) -> str:
        return self.base_url or os.environ.get("POLYMARKET_DATA_URL") or DEFAULT_DATA_URL

    def uses_v1_fallback(self) -> bool:
        if self.v1_fallback is not None:
            return self.v1_fallback
        return os.environ.get("PM_INTEL_DATA_V1_FALLBACK", "").strip().lower() in ("1", "true", "yes")

    @asynccontextmanager
    async def session(
        self, quarantine: QuarantineSink | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> AsyncIterator[DataApiSession]:
        http = PolymarketHttp(
            base_url=self.resolved_base_url(),
            limits=DATA_LIMITS,
            general_limit=DATA_GENERAL,
            timeout_s=self.timeout_s,
            max_attempts=self.max_attempts,
            max_backoff_s=self.max_backoff_s,
            quarantine=quarantine,
            transport=transport,
        )
        async with http:
            yield DataApiSession(http, self)


@dataclass
class DataApiSession:
    http: PolymarketHttp
    cfg: DataApiClient
    pages: int = 0

    async def _page(
        self, path: str, params: Mapping[str, Any], adapter: pydantic.TypeAdapter[P]
    ) -> tuple[P, int]:
        """(the validated page, its HTTP status); a malformed page is quarantined and asked for again."""
        endpoint = f"GET {path}"
        last: PayloadError | None = None
        for _ in range(self.cfg.payload_attempts):
            try:
                status, data, raw = await self.http.request_json("GET", path, params=params)
                if status >= 400:
                    message = data.get("error") if isinstance(data, dict) else raw[:200]
                    raise ApiError(endpoint, f"HTTP {status}: {message}", status=status, body=raw)
                page = self.http.parse(endpoint, adapter, data, raw, params=params, status=status)
            except PayloadError as exc:  # already quarantined by the HTTP core; ask again
                last = exc
                continue
            self.pages += 1
            return page, status
        assert last is not None
        raise last

    async def _rows(
        self, path: str, params: Mapping[str, Any], adapter: pydantic.TypeAdapter[R], defer: bool = False
    ) -> tuple[ValidatedRows[R], str | None]:
        """One `{data, pagination}` page, its rows validated one by one; (rows, next cursor)."""
        envelope, status = await self._page(path, params, _ENVELOPE)
        rows = validate_rows(
            self.http,
            f"GET {path}",
            adapter,
            envelope.data or [],
            label="data",
            params=params,
            status=status,
            defer_quarantine=defer,
        )
        return rows, envelope.pagination.next_cursor

    async def trade_pages(
        self,
        *,
        conditions: Sequence[str] = (),
        user: str | None = None,
        taker_only: bool = True,
    ) -> AsyncIterator[ValidatedRows[Trade]]:
        """Pages of `/v2/trades`, newest first, until `next_cursor` is null (the caller may stop earlier).

        Each page holds its valid rows and its rejected rows (with where they stood), so a walk goes past a
        bad row and its coverage evidence can say what was not stored. Rejected rows are not quarantined
        here: the walk quarantines those inside its window (`quarantine`), once.

        Without `conditions` or `user` this is the global feed, which only reaches back to the start of the
        previous calendar month and may stop paging early under bursts.
        """
        if len(conditions) > MAX_CONDITIONS:
            raise ValueError(f"at most {MAX_CONDITIONS} condition ids per request, got {len(conditions)}")
        params: dict[str, Any] = {"limit": self.cfg.page_limit, "taker_only": str(taker_only).lower()}
        if conditions:
            params["condition"] = ",".join(conditions)
        if user:
            params["user"] = user
        cursor: str | None = None
        while True:
            query = params if cursor is None else {**params, "cursor": cursor}
            try:
                page, next_cursor = await self._rows("/v2/trades", query, _TRADE, defer=True)
            except ApiError as exc:
                if exc.status == 404 and self.cfg.uses_v1_fallback() and cursor is None:
                    async for rows in self._v1_trade_pages(conditions, user, taker_only):
                        yield rows
                    return
                raise
            yield page
            # An all-quarantined page is not the end of the feed: only an empty one is.
            if next_cursor is None or page.served == 0:
                return
            cursor = next_cursor

    def quarantine(self, rejected: Sequence[RejectedRow], served: int) -> None:
        """Keep rejected trade rows as evidence (a walk calls this for the rows inside its window)."""
        quarantine_rejected(self.http, "GET /v2/trades", rejected, served)

    def quarantine_misordered(self, trades: Sequence[Trade]) -> None:
        """Keep rows the walk could not key (newer than the rows before them in a newest-first feed)."""
        rejected = [
            RejectedRow(
                index=-1,
                good_before=0,
                error=f"timestamp: {t.timestamp} is newer than the rows served before it (feed is newest first)",
                endpoint="GET /v2/trades (out of order)",
                item=t.model_dump(mode="json"),
                timestamp=t.timestamp,
            )
            for t in trades
        ]
        quarantine_rejected(self.http, "GET /v2/trades", rejected, len(rejected))

    async def _v1_trade_pages(
        self, conditions: Sequence[str], user: str | None, taker_only: bool
    ) -> AsyncIterator[ValidatedRows[Trade]]:
        """v1 `/trades` by offset: capped at 3000 rows deep, so only a stopgap (off by default)."""
        limit = min(self.cfg.page_limit, 500)
        params: dict[str, Any] = {"limit": limit, "takerOnly": str(taker_only).lower()}
        if conditions:
            params["market"] = ",".join(conditions)
        if user:
            params["user"] = user
        offset = 0
        while offset <= V1_OFFSET_CAP:
            query = {**params, "offset": offset}
            items, status = await self._page("/trades", query, _V1_ROWS)
            rows = validate_rows(
                self.http, "GET /trades", _TRADE, items, label="", params=query, status=status
            )
            yield rows
            if rows.served < limit:
                return
            offset += limit
        # Never end quietly at the cap: a caller would take it for the end of the data.
        raise ApiError(
            "GET /trades", f"v1 offset cap ({V1_OFFSET_CAP}) reached; older fills need Data API v2"
        )

    async def first_activity(self, wallet: str, max_pages: int = 40) -> tuple[datetime | None, bool]:
        """(oldest activity time of `wallet`, whether its whole history was read).

        Activity comes newest first and v2 has no documented ascending order, so the oldest row is at the
        end of the walk; a very long history is cut at `max_pages` (such a wallet is not new anyway).
        """
        params: dict[str, Any] = {"user": wallet, "limit": 500}
        oldest: int | None = None
        cursor: str | None = None
        for _ in range(max_pages):
            page, _ = await self._page(
                "/v2/activity", params if cursor is None else {**params, "cursor": cursor}, _ACTIVITY_PAGE
            )
            for row in page.data or []:
                oldest = row.timestamp if oldest is None else min(oldest, row.timestamp)
            cursor = page.pagination.next_cursor
            if cursor is None or not page.data:
                return (None if oldest is None else datetime.fromtimestamp(oldest, UTC)), True
        return (None if oldest is None else datetime.fromtimestamp(oldest, UTC)), False

    async def resolutions(self, condition_ids: Sequence[str]) -> list[Resolution]:
        """`/v2/resolutions` for up to 20 condition ids (66-character form)."""
        if len(condition_ids) > MAX_CONDITIONS:
            raise ValueError(f"at most {MAX_CONDITIONS} condition ids per request, got {len(condition_ids)}")
        rows, _ = await self._rows("/v2/resolutions", {"condition": ",".join(condition_ids)}, _RESOLUTION)
        return rows.rows
