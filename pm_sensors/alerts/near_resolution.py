"""The `against_favourite` rule option: large entries against the current favourite in the hours before a
market's end date (in the publicly reported insider cases they came just before the deciding news).

It reads what the position signals (fresh_wallet, size_anomaly) record in evidence["inputs"]: `hours_to_end`
(from the market's end date at the crossing fill), `entry_vwap` (the position's average entry price) and
`position_usdc`. Noise control: the signals already keep settlement sweeps and late buys of the favourite as
suppressed rows (never alerted), and an entry at or below `max_entry_price` (at most 0.5) is by construction a
buy of the underdog. A row without an end date never matches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEY = "against_favourite"


@dataclass(frozen=True)
class Option:
    default: float
    low: float
    high: float
    description: str


OPTIONS: dict[str, Option] = {
    "within_hours": Option(
        24.0, 0.25, 720.0, "the position was entered at most this many hours before the market's end date"
    ),
    "max_entry_price": Option(
        0.35,
        0.01,
        0.5,
        "its average entry is at or below this: a bet against the favourite (the other side at 1 - this or more)",
    ),
    "min_usdc": Option(
        5000.0, 0.0, 1e9, "the position (net USDC within the accumulation window) is at least this"
    ),
}


class NearResolutionError(ValueError):
    pass


def validate(value: Any) -> dict[str, float]:
    """The option with defaults filled in, or NearResolutionError naming the bad field and its range."""
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise NearResolutionError(
            f"{KEY} must be an object of {', '.join(OPTIONS)} (or true for the defaults)"
        )
    unknown = sorted(set(value) - set(OPTIONS))
    if unknown:
        raise NearResolutionError(
            f"{KEY}: unknown field {str(unknown[0])[:40]!r}; known: {', '.join(OPTIONS)}"
        )
    clean = {}
    for name, option in OPTIONS.items():
        v = value.get(name, option.default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise NearResolutionError(f"{KEY}.{name} must be a finite number ({option.description})")
        if not option.low <= v <= option.high:
            raise NearResolutionError(
                f"{KEY}.{name} must be between {option.low:g} and {option.high:g}, got {v:g} ({option.description})"
            )
        clean[name] = float(v)
    return clean


def matches(option: Mapping[str, float], row: Mapping[str, Any]) -> bool:
    evidence = row.get("evidence")
    inputs = evidence.get("inputs") if isinstance(evidence, Mapping) else None
    if not isinstance(inputs, Mapping):
        return False
    left, entry, usdc = (_num(inputs.get(k)) for k in ("hours_to_end", "entry_vwap", "position_usdc"))
    if left is None or entry is None or usdc is None:
        return False
    return (
        0 <= left <= option["within_hours"]
        and entry <= option["max_entry_price"]
        and usdc >= option["min_usdc"]
    )


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
