"""Pydantic model of CLOB `GET /prices-history` (polymarket-api.md §2.7): `{"history":[{"t":s,"p":number}]}`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from pm_assets.markets.models import Upstream
from pm_assets.markets.values import epoch_seconds, price


class PricePoint(Upstream):
    t: Annotated[int, BeforeValidator(epoch_seconds)]
    p: Annotated[float, BeforeValidator(price)]


class PriceHistory(Upstream):
    history: list[PricePoint] = Field(default_factory=list)


class PriceHistoryEnvelope(Upstream):
    """The answer whose points are validated one by one (resources/clob.py)."""

    history: list[Any] = Field(default_factory=list)
