"""Pydantic model of a CLOB order book summary (`GET /book`, `POST /books`; polymarket-api.md §2.1, L.1).

Every number is a string upstream (`timestamp` is Unix ms), `last_trade_price` is `""` before the first
trade, v2 books add `"version":"v2"`, and schema drift may turn a field into a number or drop `tick_size`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from pm_assets.markets.identifiers import normalize_outcome_id
from pm_assets.markets.models import ConditionId, Number, Text, Timestamp, Upstream

OutcomeId = Annotated[str, BeforeValidator(normalize_outcome_id)]


class BookLevel(Upstream):
    price: float = Field(ge=0, le=1)
    size: float = Field(ge=0)


class ClobBook(Upstream):
    market: ConditionId
    asset_id: OutcomeId
    timestamp: Timestamp = None
    hash: Text = None
    bids: list[BookLevel] = Field(default_factory=list)
    asks: list[BookLevel] = Field(default_factory=list)
    min_order_size: Number = None
    tick_size: Number = None
    neg_risk: bool | None = None
    last_trade_price: Number = None
    version: Text = None
