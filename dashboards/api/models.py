"""The API's response shapes (its OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    detail: str


class SignalTypeInfo(BaseModel):
    signal_type: str
    table: str
    label: str
    time_column: str = Field(description="the column `since`/`until` filter and the listing is ordered by")
    filters: list[str] = Field(description="the optional filters this type accepts besides since/until")


class SignalPage(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="rows of the signal table, newest first: signal_key, the time column, suppressed_reason "
        "(null = alert-worthy), evidence (with evidence.summary) and the type's own columns"
    )
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class Trade(BaseModel):
    traded_at: datetime
    fill_key: str
    transaction_hash: str
    token_id: str
    condition_id: str | None
    wallet: str
    side: str
    outcome: str | None
    outcome_index: int | None
    price: float | None
    size: float | None
    usdc_size: float | None
    is_taker: bool
    source: str
    ingested_at: datetime


class TradePage(BaseModel):
    items: list[Trade]
    next_cursor: str | None


class Market(BaseModel):
    condition_id: str
    market_id: str | None
    event_id: str | None
    version: str
    slug: str | None
    question: str | None
    active: bool | None
    closed: bool | None
    neg_risk: bool
    volume: float | None
    volume_24h: float | None
    liquidity: float | None
    best_bid: float | None
    best_ask: float | None
    spread: float | None
    last_trade_price: float | None
    start_date: datetime | None
    end_date: datetime | None
    resolution_status: str | None
    winning_token_id: str | None
    tags: Any
    updated_at: datetime


class MarketPage(BaseModel):
    items: list[Market]
    next_cursor: str | None


class Token(BaseModel):
    token_id: str
    outcome: str | None
    outcome_index: int
    version: str
    winner: bool | None


class Event(BaseModel):
    event_id: str
    slug: str | None
    title: str | None
    tags: Any


class MarketDetail(Market):
    tokens: list[Token]
    event: Event | None


class Wallet(BaseModel):
    wallet: str
    first_activity_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime | None
    trade_count: int
    volume_usdc: float | None
    labels: list[str]


class WalletPage(BaseModel):
    items: list[Wallet]
    next_cursor: str | None


class Watchlist(BaseModel):
    watchlist_id: int
    name: str
    min_position_usdc: float | None = Field(
        description="the position size that fires the watched_wallet signal for this list (null: the threshold)"
    )
    wallet_count: int
    created_at: datetime
    updated_at: datetime


class WatchlistPage(BaseModel):
    items: list[Watchlist]
    next_cursor: str | None


class WatchlistWallet(BaseModel):
    watchlist_id: int
    wallet: str
    label: str | None
    note: str | None
    added_at: datetime


class WatchlistWalletPage(BaseModel):
    items: list[WatchlistWallet]
    next_cursor: str | None


class Delivery(BaseModel):
    delivery_id: int
    rule_id: int
    rule: str
    signal_table: str
    signal_key: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    upstream_at: datetime | None
    signal_at: datetime | None
    created_at: datetime
    first_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None


class ScorecardRow(BaseModel):
    signal_table: str
    signal_key: str
    horizon: str
    condition_id: str | None
    direction_token_id: str | None
    price_at_signal: float | None
    price_at_horizon: float | None
    move_in_direction: float | None
    correct: bool | None
    paper_profit: float | None
    scored_at: datetime


class ScorecardPage(BaseModel):
    items: list[ScorecardRow]
    next_cursor: str | None


class ScorecardSummary(BaseModel):
    by_signal: dict[str, Any] = Field(description="per signal table: figures per horizon and a headline")
    by_rule: list[dict[str, Any]] = Field(
        description="per alert rule: what its filters would have sent, scored"
    )


class Health(BaseModel):
    status: str
