"""Pydantic model of a CLOB order book summary (`GET /book`, `POST /books`; polymarket-api.md §2.1, L.1).

Every number is a string upstream (`timestamp` is Unix ms), `last_trade_price` is `""` before the first
trade, v2 books add `"version":"v2"`, and schema drift may turn a field into a number or drop `tick_size`.
Every level's price is finite and in [0, 1], every size finite and >= 0: one bad level refuses its book.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from pm_assets.markets import values
from pm_assets.markets.identifiers import normalize_outcome_id
from pm_assets.markets.models import ConditionId, Price, Size, Text, Timestamp, Upstream

OutcomeId = Annotated[str, BeforeValidator(normalize_outcome_id)]
LevelPrice = Annotated[float, BeforeValidator(values.price)]
LevelSize = Annotated[float, BeforeValidator(values.size)]


class BookLevel(Upstream):
    price: LevelPrice
    size: LevelSize


class ClobBook(Upstream):
    market: ConditionId
    asset_id: OutcomeId
    timestamp: Timestamp = None
    hash: Text = None
    bids: list[BookLevel] = Field(default_factory=list)
    asks: list[BookLevel] = Field(default_factory=list)
    min_order_size: Size = None
    tick_size: Size = None
    neg_risk: bool | None = None
    last_trade_price: Price = None
    version: Text = None
