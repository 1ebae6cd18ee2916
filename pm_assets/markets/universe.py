"""Pure conversions from validated Gamma models to rows of `events`, `markets` and `tokens`.

Resolution state on `markets` is Gamma's view (UMA status + final outcome prices); the authoritative winner
comes from `/v2/resolutions` into `market_resolutions` (ingestion B). A winner is named here only when the
market is closed, UMA says resolved and exactly one outcome price is at least RESOLVED_PRICE.
"""

from __future__ import annotations

from typing import Any

import orjson

from pm_assets.markets.fees import fee_schedule_row
from pm_assets.markets.models import GammaEvent, GammaMarket, Tag

RESOLVED_PRICE = 0.99

EVENT_COLUMNS = (
    "event_id",
    "slug",
    "title",
    "description",
    "category",
    "neg_risk",
    "neg_risk_market_id",
    "neg_risk_augmented",
    "active",
    "closed",
    "volume",
    "volume_24h",
    "liquidity",
    "start_date",
    "end_date",
    "tags",
    "series",
    "upstream_updated_at",
)
MARKET_COLUMNS = (
    "condition_id",
    "market_id",
    "event_id",
    "version",
    "slug",
    "question",
    "description",
    "outcomes",
    "question_id",
    "neg_risk",
    "neg_risk_market_id",
    "neg_risk_other",
    "group_item_title",
    "active",
    "closed",
    "archived",
    "accepting_orders",
    "enable_order_book",
    "tick_size",
    "min_order_size",
    "fees_enabled",
    "fee_schedule",
    "volume",
    "volume_24h",
    "liquidity",
    "best_bid",
    "best_ask",
    "spread",
    "last_trade_price",
    "start_date",
    "end_date",
    "closed_time",
    "resolution_status",
    "winning_token_id",
    "resolved_at",
    "tags",
    "upstream_updated_at",
)
TOKEN_COLUMNS = ("token_id", "condition_id", "outcome", "outcome_index", "version", "has_book", "winner")


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _tags(tags: list[Tag]) -> str:
    return _json([t.model_dump(exclude_none=True) for t in tags])


def _series(event: GammaEvent) -> str:
    """The event's series as stored: Gamma's objects, or the bare `seriesSlug` when only that is given."""
    series = [s.model_dump(exclude_none=True) for s in event.series]
    if not series and event.series_slug:
        series = [{"slug": event.series_slug}]
    return _json(series) or "[]"


def _hex(value: str | None) -> str | None:
    return value.lower() if value else None


def event_row(event: GammaEvent) -> tuple:
    return (
        event.id,
        event.slug,
        event.title,
        event.description,
        event.category,
        bool(event.neg_risk or event.enable_neg_risk),
        _hex(event.neg_risk_market_id),
        event.neg_risk_augmented,
        event.active,
        event.closed,
        event.volume,
        event.volume_24h,
        event.liquidity,
        event.start_date,
        event.end_date,
        _tags(event.tags),
        _series(event),
        event.updated_at,
    )


def event_stub_row(event_id: str) -> tuple:
    """A placeholder for an event a market names before the events crawl has seen it (keeps the FK)."""
    return (
        event_id,
        None,
        None,
        None,
        None,
        False,
        None,
        False,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "[]",
        "[]",
        None,
    )


def resolution_status(market: GammaMarket) -> str | None:
    statuses = market.uma_resolution_statuses or []
    return market.uma_resolution_status or (statuses[-1] if statuses else None)


def winning_index(market: GammaMarket) -> int | None:
    if not market.closed or resolution_status(market) != "resolved":
        return None
    winners = [i for i, p in enumerate(market.outcome_prices) if p >= RESOLVED_PRICE]
    return winners[0] if len(winners) == 1 else None


def market_row(market: GammaMarket) -> tuple:
    ids = market.outcome_ids
    winner = winning_index(market)
    winning_token = ids[winner] if winner is not None and winner < len(ids) else None
    return (
        market.condition_id,
        market.id,
        market.event_id,
        market.generation,
        market.slug,
        market.question,
        market.description,
        _json(market.outcomes or []),
        _hex(market.question_id),
        market.neg_risk,
        _hex(market.neg_risk_market_id),
        market.neg_risk_other,
        market.group_item_title,
        market.active,
        market.closed,
        market.archived,
        market.accepting_orders,
        market.enable_order_book,
        market.tick_size,
        market.min_order_size,
        market.fees_enabled,
        _json(fee_schedule_row(market.fee_schedule.model_dump() if market.fee_schedule else None)),
        market.volume_num if market.volume_num is not None else market.volume,
        market.volume_24h,
        market.liquidity_num if market.liquidity_num is not None else market.liquidity,
        market.best_bid,
        market.best_ask,
        market.spread,
        market.last_trade_price,
        market.start_date,
        market.end_date,
        market.closed_time,
        resolution_status(market),
        winning_token,
        market.closed_time if winning_token else None,
        _tags(market.tags),
        market.updated_at,
    )


def token_rows(market: GammaMarket) -> list[tuple]:
    """One row per outcome id: CTF token ids (v1) and Protocol V2 position ids alike, with the generation."""
    outcomes = market.outcomes or []
    winner = winning_index(market)
    return [
        (
            token_id,
            market.condition_id,
            outcomes[i] if i < len(outcomes) else None,
            i,
            market.generation,
            market.enable_order_book,
            None if winner is None else i == winner,
        )
        for i, token_id in enumerate(market.outcome_ids)
    ]
