"""Pydantic models of Gamma's market and event payloads, with the real field types.

Upstream quirks accepted as they are (polymarket-api.md §1.3, §1.4, L.1): `outcomes`, `outcomePrices` and
`clobTokenIds` are JSON arrays encoded as strings inside the JSON; numbers arrive as strings or numbers
(schema drift turns one into the other); optional fields are omitted; dates come as `…Z` ISO strings or as
`YYYY-MM-DD HH:MM:SS+00`; Protocol V2 markets have `clobTokenIds: null` and a real `positionIds` array and a
62-hex `conditionId`. Unknown fields are ignored (Gamma adds fields often); garbage is refused with the field
named. The shared value types here are reused by the CLOB models (books, prices).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pm_assets.markets.identifiers import (
    market_generation,
    normalize_condition_id,
    normalize_outcome_id,
    outcome_ids,
)
from pm_assets.markets.values import finite_number, price, shown, size, utc_from_epoch


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return finite_number(value)


def _price(value: Any) -> float | None:
    return None if value is None or value == "" else price(value)


def _size(value: Any) -> float | None:
    return None if value is None or value == "" else size(value)


def _json_list(value: Any) -> list[Any]:
    """Gamma's JSON-in-a-string arrays (`"[\\"Yes\\", \\"No\\"]"`); real arrays pass through."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValueError(f"expected a JSON-encoded array, got {shown(value, 60)}") from None
    if not isinstance(value, list):
        raise ValueError(f"expected an array, got {type(value).__name__}")
    return value


def _str_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = _json_list(value)
    if any(isinstance(v, (bool, float)) or not isinstance(v, (str, int)) for v in items):
        raise ValueError("expected an array of strings")
    return [str(v) for v in items]


def _outcome_id_list(value: Any) -> list[str] | None:
    items = _str_list(value)
    return None if items is None else [normalize_outcome_id(v) for v in items]


def _version(value: Any) -> str | None:
    text = _text(value)
    market_generation(text)  # an unknown generation is refused here, never guessed
    return text


def _price_list(value: Any) -> list[float]:
    # A null or "" inside the array is refused, never dropped: dropping shifts every later price one
    # outcome to the left, and the winner with it.
    items = _json_list(value)
    for i, v in enumerate(items):
        if v is None or v == "":
            raise ValueError(f"item {i} is empty")
    return [price(v) for v in items]


def _timestamp(value: Any) -> datetime | None:
    """ISO `…Z` / `+00:00`, Gamma's `YYYY-MM-DD HH:MM:SS+00`, bare dates, and epoch seconds or ms.

    Out-of-range values (`1e20`, a 30-digit number) are validation errors: `fromtimestamp` raises
    OverflowError or OSError for them, which pydantic would let through to abort the whole crawl.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = finite_number(value)
        return utc_from_epoch(seconds / 1000 if seconds > 1e11 else seconds)
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii():
            raise ValueError(f"expected an ASCII date-time, got {shown(value, 40)}")
        if text.isdigit():
            return _timestamp(int(text)) if len(text) <= 20 else _timestamp(float(text))
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        elif len(text) > 3 and text[-3] in "+-" and text[-3:][1:].isdigit() and ":" not in text[-6:]:
            text += ":00"  # "+00" -> "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (ValueError, OverflowError):
            raise ValueError(f"expected a date-time, got {shown(value, 40)}") from None
    raise ValueError(f"expected a date-time string, got {type(value).__name__}")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a string, got {type(value).__name__}")


def _required_text(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("must be a non-empty string")
    return text


Number = Annotated[float | None, BeforeValidator(_number)]
Price = Annotated[float | None, BeforeValidator(_price)]
Size = Annotated[float | None, BeforeValidator(_size)]
JsonStrList = Annotated[list[str] | None, BeforeValidator(_str_list)]
OutcomeIdList = Annotated[list[str] | None, BeforeValidator(_outcome_id_list)]
Version = Annotated[str | None, BeforeValidator(_version)]
JsonPriceList = Annotated[list[float], BeforeValidator(_price_list)]
Timestamp = Annotated[datetime | None, BeforeValidator(_timestamp)]
Text = Annotated[str | None, BeforeValidator(_text)]
Id = Annotated[str, BeforeValidator(_required_text)]
ConditionId = Annotated[str, BeforeValidator(normalize_condition_id)]


class Upstream(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class FeeSchedule(Upstream):
    rate: Number = None
    exponent: Number = None
    taker_only: bool | None = Field(None, alias="takerOnly")
    rebate_rate: Number = Field(None, alias="rebateRate")


class Tag(Upstream):
    id: Text = None
    label: Text = None
    slug: Text = None


class Series(Upstream):
    """Gamma's series an event recurs in (a sports season, a daily crypto price); `id` is a string upstream."""

    id: Text = None
    slug: Text = None
    title: Text = None
    ticker: Text = None


class EventRef(Upstream):
    """The partial event a market embeds."""

    id: Id


class GammaMarket(Upstream):
    id: Id
    condition_id: ConditionId = Field(alias="conditionId")
    question: Text = None
    slug: Text = None
    description: Text = None
    version: Version = None
    outcomes: JsonStrList = None
    outcome_prices: JsonPriceList = Field(default_factory=list, alias="outcomePrices")
    clob_token_ids: OutcomeIdList = Field(None, alias="clobTokenIds")
    position_ids: OutcomeIdList = Field(None, alias="positionIds")
    question_id: Text = Field(None, alias="questionID")
    neg_risk: bool = Field(False, alias="negRisk")
    neg_risk_market_id: Text = Field(None, alias="negRiskMarketID")
    neg_risk_other: bool = Field(False, alias="negRiskOther")
    group_item_title: Text = Field(None, alias="groupItemTitle")
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    accepting_orders: bool | None = Field(None, alias="acceptingOrders")
    enable_order_book: bool | None = Field(None, alias="enableOrderBook")
    tick_size: Size = Field(None, alias="orderPriceMinTickSize")
    min_order_size: Size = Field(None, alias="orderMinSize")
    fees_enabled: bool | None = Field(None, alias="feesEnabled")
    fee_schedule: FeeSchedule | None = Field(None, alias="feeSchedule")
    volume: Size = None
    volume_num: Size = Field(None, alias="volumeNum")
    volume_24h: Size = Field(None, alias="volume24hr")
    liquidity: Size = None
    liquidity_num: Size = Field(None, alias="liquidityNum")
    best_bid: Price = Field(None, alias="bestBid")
    best_ask: Price = Field(None, alias="bestAsk")
    spread: Price = None
    last_trade_price: Price = Field(None, alias="lastTradePrice")
    start_date: Timestamp = Field(None, alias="startDate")
    end_date: Timestamp = Field(None, alias="endDate")
    closed_time: Timestamp = Field(None, alias="closedTime")
    updated_at: Timestamp = Field(None, alias="updatedAt")
    uma_resolution_status: Text = Field(None, alias="umaResolutionStatus")
    uma_resolution_statuses: JsonStrList = Field(None, alias="umaResolutionStatuses")
    events: list[EventRef] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_fit_outcomes(self) -> GammaMarket:
        ids = self.outcome_ids
        if ids and self.outcomes and len(ids) != len(self.outcomes):
            field = "positionIds" if self.generation == "v2" else "clobTokenIds"
            raise ValueError(f"{field}: {len(ids)} ids for {len(self.outcomes)} outcomes")
        if self.outcome_prices and self.outcomes and len(self.outcome_prices) != len(self.outcomes):
            raise ValueError(
                f"outcomePrices: {len(self.outcome_prices)} prices for {len(self.outcomes)} outcomes"
            )
        return self

    @property
    def generation(self) -> str:
        return market_generation(self.version)

    @property
    def outcome_ids(self) -> list[str]:
        return outcome_ids(self.version, self.clob_token_ids, self.position_ids)

    @property
    def event_id(self) -> str | None:
        return self.events[0].id if self.events else None


class GammaEvent(Upstream):
    id: Id
    slug: Text = None
    title: Text = None
    description: Text = None
    category: Text = None
    neg_risk: bool = Field(False, alias="negRisk")
    enable_neg_risk: bool | None = Field(None, alias="enableNegRisk")
    neg_risk_market_id: Text = Field(None, alias="negRiskMarketID")
    neg_risk_augmented: bool = Field(False, alias="negRiskAugmented")
    active: bool | None = None
    closed: bool | None = None
    volume: Size = None
    volume_24h: Size = Field(None, alias="volume24hr")
    liquidity: Size = None
    start_date: Timestamp = Field(None, alias="startDate")
    end_date: Timestamp = Field(None, alias="endDate")
    updated_at: Timestamp = Field(None, alias="updatedAt")
    tags: list[Tag] = Field(default_factory=list)
    series: list[Series] = Field(default_factory=list)
    series_slug: Text = Field(None, alias="seriesSlug")


class KeysetEnvelope(Upstream):
    """`/markets/keyset` and `/events/keyset` pages; items are validated one by one (see resources/gamma.py)."""

    markets: list[Any] | None = None
    events: list[Any] | None = None
    next_cursor: Text = None
