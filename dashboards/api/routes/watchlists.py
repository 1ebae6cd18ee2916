"""/v1/watchlists (issue 18): the lists and their wallets. The watched_wallet signal's rows come through the
signals routes like every other signal table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import engine_of, reading, run_page
from dashboards.api.routes.params import NOT_FOUND, Cursor, Limit, WatchlistId, one_row

router = APIRouter()


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
    return one_row(request, listing, "watchlist")


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
