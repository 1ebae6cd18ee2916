"""/v1/markets: markets by condition id, one market with its tokens and event, and its trades."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import engine_of, run_page, utc
from dashboards.api.routes.params import (
    NOT_FOUND,
    PLAIN_TEXT,
    ConditionId,
    Cursor,
    Limit,
    Since,
    Until,
    one_row,
)
from dashboards.api.routes.trades import TradeSelection, add_trade_routes

router = APIRouter()


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


def _tokens_and_event(cur: Any, row: dict) -> None:
    row["tokens"] = cur.execute(q.MARKET_TOKENS, (row["condition_id"],)).fetchall()
    row["event"] = cur.execute(q.MARKET_EVENT, (row["event_id"],)).fetchone() if row["event_id"] else None


@router.get(
    "/markets/{condition_id}", response_model=models.MarketDetail, responses=NOT_FOUND, summary="One market"
)
def get_market(request: Request, condition_id: ConditionId) -> dict[str, Any]:
    listing = q.markets()
    listing.equal("condition_id", condition_id.lower())
    return one_row(request, listing, "market", _tokens_and_event)


def market_trades(condition_id: ConditionId, since: Since = None, until: Until = None) -> TradeSelection:
    listing = q.trades("condition_id")
    listing.equal("condition_id", condition_id.lower())
    listing.between("traded_at", utc(since), utc(until))
    return TradeSelection(listing, f"trades_{condition_id.lower()[:12]}")


add_trade_routes(router, "/markets/{condition_id}", "market", market_trades)
