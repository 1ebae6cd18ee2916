"""CLOB REST client: batched order books and price history, returning validated models.

On top of the shared HTTP core (pacing, retries, quarantine):
- `POST /books` in batches of at most 500 (more answers 400 "Payload exceeds the limit", §2.2); a batch that
  answers 404 holds a token without a book, so it is split in halves until the unknown tokens are isolated —
  a 404 book is reported as unknown, never as an empty book;
- `/prices-history` windows are cut to the 15-day cap (§2.7), `market` = the token id, times in seconds;
- a body that is not JSON or whose envelope does not validate is quarantined and re-fetched a few times
  before giving up; a bad book or history point is quarantined alone and the rest of its answer is kept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg
import httpx
import pydantic

from pm_assets.books.models import ClobBook
from pm_assets.prices.models import PriceHistoryEnvelope, PricePoint
from pm_assets.resources.http import (
    CLOB_GENERAL,
    CLOB_LIMITS,
    ApiError,
    PayloadError,
    PolymarketHttp,
    QuarantineSink,
    gather_bounded,
)
from pm_assets.resources.rows import validate_rows

DEFAULT_CLOB_URL = "https://clob.polymarket.com"
BOOKS_CAP = 500
HISTORY_SPAN_CAP_S = 14 * 86400  # upstream refuses spans over ~15 days; stay a day inside it

_BOOK = pydantic.TypeAdapter(ClobBook)
_BOOK_LIST = pydantic.TypeAdapter(list[object])
_HISTORY = pydantic.TypeAdapter(PriceHistoryEnvelope)
_POINT = pydantic.TypeAdapter(PricePoint)


@dataclass
class BooksResult:
    books: dict[str, ClobBook] = field(default_factory=dict)
    unknown: set[str] = field(
        default_factory=set
    )  # 404: no order book exists (closed, resolved, never listed)
    rejected: set[str] = field(default_factory=set)  # answered, but the book failed validation (quarantined)


@dataclass
class ClobSession:
    http: PolymarketHttp
    books_batch: int = BOOKS_CAP
    concurrency: int = 4
    payload_attempts: int = 4

    @property
    def stats(self):
        return self.http.stats

    async def _json(self, method: str, path: str, *, params=None, body=None) -> tuple[int, object, str]:
        last: PayloadError | None = None
        for _ in range(self.payload_attempts):
            try:
                return await self.http.request_json(method, path, params=params, body=body)
            except PayloadError as exc:
                last = exc
        raise ApiError(f"{method} {path}", f"no valid body after {self.payload_attempts} attempts: {last}")

    async def _books_batch(self, token_ids: Sequence[str], out: BooksResult) -> None:
        endpoint = "POST /books"
        body = [{"token_id": t} for t in token_ids]
        for _ in range(self.payload_attempts):
            status, data, raw = await self._json("POST", "/books", body=body)
            if status == 404 or (status == 400 and "exceeds" in raw and len(token_ids) > 1):
                if len(token_ids) == 1:
                    out.unknown.add(token_ids[0])
                    return
                half = len(token_ids) // 2
                await self._books_batch(token_ids[:half], out)
                await self._books_batch(token_ids[half:], out)
                return
            if status >= 400:
                raise ApiError(endpoint, f"HTTP {status}: {raw[:300]}", status=status, body=raw)
            try:
                items = self.http.parse(endpoint, _BOOK_LIST, data, raw, {"tokens": len(token_ids)}, status)
            except PayloadError:
                continue
            wanted = set(token_ids)
            rows = validate_rows(
                self.http, endpoint, _BOOK, items, label="", params={"tokens": len(token_ids)}, status=status
            )
            for bad in rows.rejected:
                token = bad.item.get("asset_id") if isinstance(bad.item, dict) else None
                out.rejected.add(token if isinstance(token, str) and token in wanted else f"#{bad.index}")
            for book in rows.rows:
                if book.asset_id in wanted:
                    out.books[book.asset_id] = book
            return
        raise ApiError(endpoint, f"no valid list of books after {self.payload_attempts} attempts")

    async def books(self, token_ids: Sequence[str]) -> BooksResult:
        """Books of `token_ids` (duplicates dropped), fetched in capped batches with bounded concurrency."""
        unique = list(dict.fromkeys(token_ids))
        size = max(1, min(BOOKS_CAP, self.books_batch))
        out = BooksResult()
        batches = [unique[i : i + size] for i in range(0, len(unique), size)]
        await gather_bounded([lambda b=b: self._books_batch(b, out) for b in batches], self.concurrency)
        return out

    async def price_history(
        self, token_id: str, start_ts: int, end_ts: int, fidelity_minutes: int = 10
    ) -> list[PricePoint]:
        """Points of `token_id` with start_ts <= t < end_ts, fetched in windows under the span cap."""
        endpoint = "GET /prices-history"
        points: dict[int, PricePoint] = {}
        window_start = start_ts
        while window_start < end_ts:
            window_end = min(end_ts, window_start + HISTORY_SPAN_CAP_S)
            params = {
                "market": token_id,
                "startTs": window_start,
                "endTs": window_end,
                "fidelity": fidelity_minutes,
            }
            for _ in range(self.payload_attempts):
                status, data, raw = await self._json("GET", "/prices-history", params=params)
                if status == 404:
                    return []
                if status >= 400:
                    raise ApiError(endpoint, f"HTTP {status}: {raw[:300]}", status=status, body=raw)
                try:
                    history = self.http.parse(endpoint, _HISTORY, data, raw, params, status)
                except PayloadError:
                    continue
                valid = validate_rows(
                    self.http,
                    endpoint,
                    _POINT,
                    history.history,
                    label="history",
                    params=params,
                    status=status,
                )
                # Upstream may append a point at "now" past endTs; keep the asked window only.
                points.update({p.t: p for p in valid.rows if start_ts <= p.t < end_ts})
                break
            else:
                raise ApiError(
                    endpoint, f"no valid history for {token_id} after {self.payload_attempts} attempts"
                )
            window_start = window_end
        return [points[t] for t in sorted(points)]

    async def price_histories(
        self, token_ids: Sequence[str], start_ts: int, end_ts: int, fidelity_minutes: int = 10
    ) -> dict[str, list[PricePoint]]:
        results = await gather_bounded(
            [lambda t=t: self.price_history(t, start_ts, end_ts, fidelity_minutes) for t in token_ids],
            self.concurrency,
        )
        return dict(zip(token_ids, results, strict=True))


class ClobClient(dg.ConfigurableResource):
    """CLOB REST (books, price history). `base_url` unset: POLYMARKET_CLOB_URL at launch, else the live host."""

    base_url: str | None = None
    books_batch: int = BOOKS_CAP
    concurrency: int = 4
    timeout_s: float = 20.0
    max_attempts: int = 6
    payload_attempts: int = 4
    max_backoff_s: float = 30.0

    def resolved_url(self) -> str:
        return self.base_url or os.environ.get("POLYMARKET_CLOB_URL") or DEFAULT_CLOB_URL

    def session(
        self, quarantine: QuarantineSink | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> _SessionContext:
        http = PolymarketHttp(
            base_url=self.resolved_url(),
            limits=CLOB_LIMITS,
            general_limit=CLOB_GENERAL,
            timeout_s=self.timeout_s,
            max_attempts=self.max_attempts,
            max_backoff_s=self.max_backoff_s,
            quarantine=quarantine,
            transport=transport,
        )
        return _SessionContext(ClobSession(http, self.books_batch, self.concurrency, self.payload_attempts))


@dataclass
class _SessionContext:
    session: ClobSession

    async def __aenter__(self) -> ClobSession:
        await self.session.http.__aenter__()
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        await self.session.http.__aexit__(*exc)
