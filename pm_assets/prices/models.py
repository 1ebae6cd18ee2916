"""Pydantic model of CLOB `GET /prices-history` (polymarket-api.md §2.7): `{"history":[{"t":s,"p":number}]}`."""

from __future__ import annotations

from pydantic import Field

from pm_assets.markets.models import Upstream


class PricePoint(Upstream):
    t: int = Field(ge=0)
    p: float = Field(ge=0, le=1)


class PriceHistory(Upstream):
    history: list[PricePoint] = Field(default_factory=list)
