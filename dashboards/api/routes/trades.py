"""A market's or a wallet's trades, paged or exported: one pair of routes per owner, built the same way."""

# No `from __future__ import annotations`: FastAPI resolves the routes' annotations at definition, and
# `select` is local to add_trade_routes, so a string annotation naming it could not be resolved.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import engine_of, run_page, stream_export
from dashboards.api.routes.params import EXPORT_CONTENT, Cursor, Format, Limit


@dataclass(frozen=True)
class TradeSelection:
    listing: q.Listing
    export_name: str  # the download's file name, without extension


def add_trade_routes(
    router: APIRouter, owner_path: str, owner: str, select: Callable[..., TradeSelection]
) -> None:
    """GET `{owner_path}/trades` (paged) and `{owner_path}/trades/export` (CSV or Parquet) over `select`,
    a FastAPI dependency that reads the owner's path parameter and the time window."""

    @router.get(f"{owner_path}/trades", response_model=models.TradePage, summary=f"A {owner}'s trades")
    def list_trades(
        request: Request,
        selection: Annotated[TradeSelection, Depends(select)],
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        return run_page(engine_of(request), selection.listing, limit, cursor)

    @router.get(
        f"{owner_path}/trades/export",
        response_class=StreamingResponse,
        responses=EXPORT_CONTENT,
        summary=f"A {owner}'s trades as CSV or Parquet",
    )
    def export_trades(
        request: Request,
        selection: Annotated[TradeSelection, Depends(select)],
        format: Format = "csv",
    ) -> StreamingResponse:
        return stream_export(engine_of(request), selection.listing, format, selection.export_name)
