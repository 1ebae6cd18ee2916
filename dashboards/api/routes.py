"""The API's routes, all GET under /v1 behind a bearer token (any other verb is 405).

Watchlists (issue 18) are served beside /v1/wallets: the lists and their wallets. The watched_wallet signal's
rows come through the signals routes like every other signal table.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import StreamingResponse
from psycopg.rows import dict_row
from pydantic import BeforeValidator

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import (
    clean,
    engine_of,
    known_query_only,
    reading,
    require_token,
    run_page,
    stream_export,
    utc,
)
from dashboards.api.signal_tables import SignalTable, by_name, signal_tables

CONDITION_ID = r"^0x[0-9a-fA-F]{64}$"
WALLET = r"^0x[0-9a-fA-F]{40}$"
TOKEN_ID = r"^[0-9]{1,78}$"
PLAIN_TEXT = r"^[^\x00]*$"  # Postgres text cannot hold NUL
MAX_LIMIT = 1000

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": models.Problem, "description": "a filter this listing does not have, or a bad cursor"},
    401: {"model": models.Problem, "description": "no bearer token, or one that is unknown or revoked"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": models.Problem}}
EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}, "application/vnd.apache.parquet": {}},
        "description": "the rows, streamed",
    }
}

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")]
Cursor = Annotated[str | None, Query(max_length=2000, description="`next_cursor` of the previous page")]
# RFC 3339 only: pydantic alone would also read a bare number as a Unix time, which the document does not say.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$")


def _rfc3339(value: object) -> object:
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError("give a time as RFC 3339, e.g. 2026-12-01T00:00:00Z")
    return value


Time = Annotated[datetime, BeforeValidator(_rfc3339)]
Since = Annotated[Time | None, Query(description="from this time (inclusive); RFC 3339, UTC if no offset")]
Until = Annotated[Time | None, Query(description="before this time (exclusive)")]
Format = Annotated[Literal["csv", "parquet"], Query(description="csv (formula cells neutralised) or parquet")]
ConditionId = Annotated[str, Path(pattern=CONDITION_ID, description="the market's 66-character condition id")]
WalletAddress = Annotated[str, Path(pattern=WALLET, description="a 0x address of 40 hex digits")]
WatchlistId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a watchlist's id")]  # bigint

router = APIRouter(
    prefix="/v1", dependencies=[Depends(require_token), Depends(known_query_only)], responses=ERRORS
)


# ---- signals --------------------------------------------------------------------------------------------


def _filters(kind: SignalTable) -> list[str]:
    names = ["since", "until", "suppressed"]
    names += ["condition_id"] if kind.has_market else []
    names += ["token_id"] if kind.has_token else []
    names += ["wallet"] if kind.has_wallet else []
    names += ["event_id"] if kind.has_event else []
    return names


def _signal_kind(signal_type: str, status: int = 404) -> SignalTable:
    """The type a path names (unknown: 404) or a filter names (unknown: 400)."""
    kind = by_name(signal_type)
    if kind is None:
        known = ", ".join(t.signal_type for t in signal_tables())
        raise HTTPException(status, f"no signal type {signal_type!r}; known: {known}")
    return kind


def signal_listing(
    signal_type: Annotated[str, Path(max_length=100, description="a signal type from GET /v1/signals")],
    since: Since = None,
    until: Until = None,
    suppressed: Annotated[
        Literal["show", "hide", "only"], Query(description="hide: alert-worthy rows only; only: held back")
    ] = "show",
    condition_id: Annotated[str | None, Query(pattern=CONDITION_ID)] = None,
    token_id: Annotated[str | None, Query(pattern=TOKEN_ID)] = None,
    wallet: Annotated[str | None, Query(pattern=WALLET)] = None,
    event_id: Annotated[str | None, Query(max_length=200, pattern=PLAIN_TEXT)] = None,
) -> q.Listing:
    kind = _signal_kind(signal_type)
    given = {"condition_id": condition_id, "token_id": token_id, "wallet": wallet, "event_id": event_id}
    unknown = [n for n, v in given.items() if v is not None and n not in _filters(kind)]
    if unknown:
        raise HTTPException(400, f"{kind.signal_type} has no {', '.join(unknown)} column to filter on")
    listing = q.signals(kind)
    listing.between(kind.time_column, utc(since), utc(until))
    if suppressed == "hide":
        listing.filter("suppressed_reason is null")
    elif suppressed == "only":
        listing.filter("suppressed_reason is not null")
    listing.equal("condition_id", condition_id.lower() if condition_id else None)
    listing.equal("token_id", token_id)
    listing.equal("wallet", wallet.lower() if wallet else None)
    listing.equal("event_id", event_id)
    return listing


@router.get("/signals", response_model=list[models.SignalTypeInfo], summary="Signal types and their filters")
def list_signal_types() -> list[dict[str, Any]]:
    return [
        {
            "signal_type": t.signal_type,
            "table": t.table,
            "label": t.label,
            "time_column": t.time_column,
            "filters": _filters(t),
        }
        for t in signal_tables()
    ]


@router.get(
    "/signals/{signal_type}",
    response_model=models.SignalPage,
    responses=NOT_FOUND,
    summary="Signals, newest first",
)
def list_signals(
    request: Request,
    listing: Annotated[q.Listing, Depends(signal_listing)],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return run_page(engine_of(request), listing, limit, cursor)


@router.get(
    "/signals/{signal_type}/export",
    response_class=StreamingResponse,
    responses={**NOT_FOUND, **EXPORT_CONTENT},
    summary="Every signal the filters select, as CSV or Parquet",
)
def export_signals(
    request: Request,
    signal_type: Annotated[str, Path(max_length=100)],
    listing: Annotated[q.Listing, Depends(signal_listing)],
    format: Format = "csv",
) -> StreamingResponse:
    return stream_export(engine_of(request), listing, format, _signal_kind(signal_type).table)


# ---- markets and their trades ---------------------------------------------------------------------------


@router.get("/markets", response_model=models.MarketPage, summary="Markets by condition id")
def list_markets(
    request: Request,
    q_: Annotated[
        str | None,
        Query(alias="q", max_length=200, pattern=PLAIN_TEXT, description="text in question or slug"),
    ] = None,
    event_id: Annotated[str | None, Query(max_length=200, pattern=PLAIN_TEXT)] = None,
    active: bool | None = None,
    closed: bool | None = None,
    tag: Annotated[str | None, Query(max_length=200, pattern=PLAIN_TEXT, description="a tag label")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    listing = q.markets()
    if q_:
        escaped = q_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        listing.filter(
            "(question ilike %(pattern)s escape '\\' or slug ilike %(pattern)s escape '\\')",
            pattern=f"%{escaped}%",
        )
    listing.equal("event_id", event_id)
    listing.equal("active", active)
    listing.equal("closed", closed)
    if tag:
        listing.filter(
            "(jsonb_exists(tags, %(tag)s) or tags @> jsonb_build_array(jsonb_build_object('label', %(tag)s::text)))",
            tag=tag,
        )
    return run_page(engine_of(request), listing, limit, cursor)


@router.get(
    "/markets/{condition_id}", response_model=models.MarketDetail, responses=NOT_FOUND, summary="One market"
)
def get_market(request: Request, condition_id: ConditionId) -> dict[str, Any]:
    listing = q.markets()
    listing.equal("condition_id", condition_id.lower())
    with reading(engine_of(request)) as pg, pg.cursor(row_factory=dict_row) as cur:
        row = cur.execute(listing.statement(1), listing.params).fetchone()
        if row is None:
            raise HTTPException(404, "no such market")
        row["tokens"] = cur.execute(q.MARKET_TOKENS, (row["condition_id"],)).fetchall()
        row["event"] = cur.execute(q.MARKET_EVENT, (row["event_id"],)).fetchone() if row["event_id"] else None
    return clean(row)


def market_trades_listing(condition_id: ConditionId, since: Since = None, until: Until = None) -> q.Listing:
    listing = q.trades("condition_id")
    listing.equal("condition_id", condition_id.lower())
    listing.between("traded_at", utc(since), utc(until))
    return listing


@router.get("/markets/{condition_id}/trades", response_model=models.TradePage, summary="A market's trades")
def list_market_trades(
    request: Request,
    listing: Annotated[q.Listing, Depends(market_trades_listing)],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return run_page(engine_of(request), listing, limit, cursor)


@router.get(
    "/markets/{condition_id}/trades/export",
    response_class=StreamingResponse,
    responses=EXPORT_CONTENT,
    summary="A market's trades as CSV or Parquet",
)
def export_market_trades(
    request: Request,
    condition_id: ConditionId,
    listing: Annotated[q.Listing, Depends(market_trades_listing)],
    format: Format = "csv",
) -> StreamingResponse:
    return stream_export(engine_of(request), listing, format, f"trades_{condition_id.lower()[:12]}")


# ---- wallets and their trades ---------------------------------------------------------------------------


@router.get("/wallets", response_model=models.WalletPage, summary="Wallets by address")
def list_wallets(
    request: Request,
    min_volume: Annotated[
        float | None, Query(allow_inf_nan=False, description="USDC traded, at least")
    ] = None,
    min_trades: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    first_active_since: Annotated[
        Time | None, Query(description="first Polymarket activity at or after this time")
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    listing = q.wallets()
    if min_volume is not None:
        listing.filter("volume_usdc >= %(min_volume)s", min_volume=min_volume)
    if min_trades is not None:
        listing.filter("trade_count >= %(min_trades)s", min_trades=min_trades)
    if first_active_since is not None:
        listing.filter("first_activity_at >= %(first_since)s", first_since=utc(first_active_since))
    return run_page(engine_of(request), listing, limit, cursor)


@router.get("/wallets/{wallet}", response_model=models.Wallet, responses=NOT_FOUND, summary="One wallet")
def get_wallet(request: Request, wallet: WalletAddress) -> dict[str, Any]:
    listing = q.wallets()
    listing.equal("wallet", wallet.lower())
    with reading(engine_of(request)) as pg, pg.cursor(row_factory=dict_row) as cur:
        row = cur.execute(listing.statement(1), listing.params).fetchone()
    if row is None:
        raise HTTPException(404, "no such wallet")
    return clean(row)


def wallet_trades_listing(wallet: WalletAddress, since: Since = None, until: Until = None) -> q.Listing:
    listing = q.trades("wallet")
    listing.equal("wallet", wallet.lower())
    listing.between("traded_at", utc(since), utc(until))
    return listing


@router.get("/wallets/{wallet}/trades", response_model=models.TradePage, summary="A wallet's trades")
def list_wallet_trades(
    request: Request,
    listing: Annotated[q.Listing, Depends(wallet_trades_listing)],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return run_page(engine_of(request), listing, limit, cursor)


@router.get(
    "/wallets/{wallet}/trades/export",
    response_class=StreamingResponse,
    responses=EXPORT_CONTENT,
    summary="A wallet's trades as CSV or Parquet",
)
def export_wallet_trades(
    request: Request,
    wallet: WalletAddress,
    listing: Annotated[q.Listing, Depends(wallet_trades_listing)],
    format: Format = "csv",
) -> StreamingResponse:
    return stream_export(engine_of(request), listing, format, f"trades_{wallet.lower()}")


# ---- watchlists and their wallets ----------------------------------------------------------------------


@router.get("/watchlists", response_model=models.WatchlistPage, summary="Watchlists by id")
def list_watchlists(request: Request, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    return run_page(engine_of(request), q.watchlists(), limit, cursor)


@router.get(
    "/watchlists/{watchlist_id}",
    response_model=models.Watchlist,
    responses=NOT_FOUND,
    summary="One watchlist",
)
def get_watchlist(request: Request, watchlist_id: WatchlistId) -> dict[str, Any]:
    listing = q.watchlists()
    listing.equal("watchlist_id", watchlist_id)
    with reading(engine_of(request)) as pg, pg.cursor(row_factory=dict_row) as cur:
        row = cur.execute(listing.statement(1), listing.params).fetchone()
    if row is None:
        raise HTTPException(404, "no such watchlist")
    return clean(row)


@router.get(
    "/watchlists/{watchlist_id}/wallets",
    response_model=models.WatchlistWalletPage,
    responses=NOT_FOUND,
    summary="A watchlist's wallets by address",
)
def list_watchlist_wallets(
    request: Request, watchlist_id: WatchlistId, limit: Limit = 100, cursor: Cursor = None
) -> dict[str, Any]:
    listing = q.watchlist_wallets()
    listing.equal("watchlist_id", watchlist_id)
    page = run_page(engine_of(request), listing, limit, cursor)
    if not page["items"]:  # an empty list, or none at all: only the second is a 404
        with reading(engine_of(request)) as pg:
            if pg.execute(q.WATCHLIST_EXISTS, (watchlist_id,)).fetchone() is None:
                raise HTTPException(404, "no such watchlist")
    return page


# ---- alert deliveries and the scorecard -----------------------------------------------------------------


@router.get(
    "/alerts/deliveries", response_model=models.DeliveryPage, summary="Alert deliveries, newest first"
)
def list_deliveries(
    request: Request,
    status: Literal["pending", "delivered", "failed", "over_budget", "digested"] | None = None,
    rule_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    signal_type: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[Time | None, Query(description="created at or after")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    listing = q.deliveries()
    listing.equal("status", status)
    listing.equal("rule_id", rule_id)
    if signal_type is not None:
        listing.equal("signal_table", _signal_kind(signal_type, 400).table)
    listing.between("created_at", utc(since), None)
    return run_page(engine_of(request), listing, limit, cursor)


@router.get("/scorecard", response_model=models.ScorecardPage, summary="Scored signals, one row per horizon")
def list_scorecard(
    request: Request,
    signal_type: Annotated[str | None, Query(max_length=100)] = None,
    horizon: Literal["1h", "24h", "settlement"] | None = None,
    condition_id: Annotated[str | None, Query(pattern=CONDITION_ID)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    listing = q.scorecard()
    if signal_type is not None:
        listing.equal("signal_table", _signal_kind(signal_type, 400).table)
    listing.equal("horizon", horizon)
    listing.equal("condition_id", condition_id.lower() if condition_id else None)
    return run_page(engine_of(request), listing, limit, cursor)


@router.get("/scorecard/summary", response_model=models.ScorecardSummary, summary="The scorecard's figures")
def scorecard_summary(
    request: Request,
    days: Annotated[
        int | None, Query(ge=1, le=3650, description="signals of the last N days (all if absent)")
    ] = None,
    horizon: Literal["1h", "24h", "settlement"] = "24h",
) -> dict[str, Any]:
    from pm_assets.signals.scorecard import scorecard_summary as summary

    with reading(engine_of(request)) as pg:
        return clean(summary(pg, days=days, horizon=horizon))
