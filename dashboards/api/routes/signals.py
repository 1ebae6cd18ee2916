"""/v1/signals: the signal types (from the one spec list) and each one's rows, paged or exported."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import StreamingResponse

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import engine_of, run_page, stream_export, utc
from dashboards.api.routes.params import (
    CONDITION_ID,
    EXPORT_CONTENT,
    NOT_FOUND,
    PLAIN_TEXT,
    TOKEN_ID,
    WALLET,
    Cursor,
    Format,
    Limit,
    Since,
    Until,
)
from dashboards.api.signal_tables import SignalTable, by_name, signal_tables

router = APIRouter()


def _filters(kind: SignalTable) -> list[str]:
    names = ["since", "until", "suppressed"]
    names += ["condition_id"] if kind.has_market else []
    names += ["token_id"] if kind.has_token else []
    names += ["wallet"] if kind.has_wallet else []
    names += ["event_id"] if kind.has_event else []
    return names


def signal_kind(signal_type: str, status: int = 404) -> SignalTable:
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
    kind = signal_kind(signal_type)
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
    return stream_export(engine_of(request), listing, format, signal_kind(signal_type).table)
