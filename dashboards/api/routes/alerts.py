"""/v1/alerts/deliveries and /v1/scorecard: what was sent, and how the signals scored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import clean, engine_of, reading, run_page, utc
from dashboards.api.routes.params import CONDITION_ID, Cursor, Limit, Time
from dashboards.api.routes.signals import signal_kind

router = APIRouter()


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
        listing.equal("signal_table", signal_kind(signal_type, 400).table)
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
        listing.equal("signal_table", signal_kind(signal_type, 400).table)
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
