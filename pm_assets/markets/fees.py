"""Taker fees by a market's fee schedule (polymarket-api.md "Late 2026" L.3). Dagster-free.

Only takers pay: ``fee = C × rate × (p × (1 − p))^exponent``, floored to 5 decimals, for C filled shares at
price p. ``rate`` and ``exponent`` come from the market's schedule: Gamma's ``feeSchedule`` (numbers,
camelCase), the websocket's ``fee_schedule`` (strings, snake_case) or the stored ``markets.fee_schedule``.
No schedule, or ``feesEnabled`` false, means no fee. Signals and dashboards import ``taker_fee``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from pm_assets.markets.values import shown

_PLACES = Decimal("0.00001")


def _number(schedule: Mapping[str, Any], key: str) -> float | None:
    value = schedule.get(key)
    if value is None or value == "" or isinstance(value, bool):
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"fee schedule {key} must be a finite non-negative number, got {shown(value, 40)}")
    return number


def fee_schedule_row(schedule: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored (jsonb) form of a schedule, whatever spelling it came in: numbers, snake_case keys."""
    if not schedule:
        return None
    rate = _number(schedule, "rate")
    exponent = _number(schedule, "exponent")
    if rate is None or exponent is None:
        return None
    taker_only = schedule.get("taker_only", schedule.get("takerOnly", True))
    rebate = (
        _number(schedule, "rebate_rate") if "rebate_rate" in schedule else _number(schedule, "rebateRate")
    )
    return {
        "rate": rate,
        "exponent": exponent,
        "taker_only": str(taker_only).lower() != "false",
        "rebate_rate": rebate,
    }


def taker_fee(
    shares: float,
    price: float,
    schedule: Mapping[str, Any] | None,
    fees_enabled: bool | None = True,
) -> float:
    """USDC fee a taker pays for ``shares`` filled at ``price``; 0 without a schedule or with fees off."""
    if fees_enabled is False:
        return 0.0
    normalized = fee_schedule_row(schedule)
    if normalized is None:
        return 0.0
    if not 0.0 <= price <= 1.0:
        raise ValueError(f"price must lie in [0, 1], got {price}")
    if shares < 0:
        raise ValueError(f"shares must be non-negative, got {shares}")
    raw = shares * normalized["rate"] * (price * (1.0 - price)) ** normalized["exponent"]
    # Rounding float noise away first keeps 0.882 (computed as 0.88199999…) from flooring to 0.88199.
    return float(Decimal(repr(round(raw, 10))).quantize(_PLACES, rounding=ROUND_FLOOR))


def taker_fee_per_share(
    price: float, schedule: Mapping[str, Any] | None, fees_enabled: bool | None = True
) -> float:
    """Unfloored fee per share at ``price``: what an edge computation subtracts before sizing."""
    if fees_enabled is False:
        return 0.0
    normalized = fee_schedule_row(schedule)
    if normalized is None:
        return 0.0
    return normalized["rate"] * (price * (1.0 - price)) ** normalized["exponent"]
