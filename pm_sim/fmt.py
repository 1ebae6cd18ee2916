"""Number formatting the way upstream prints it (no padding, no trailing zeros)."""

from __future__ import annotations


def num_str(x: float, places: int = 2) -> str:
    s = f"{x:.{places}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def tick_places(tick: float) -> int:
    return {0.01: 2, 0.001: 3, 0.0025: 4, 0.0001: 4}.get(tick, 4)


def price_str(idx: int, tick: float) -> str:
    return num_str(idx * tick, tick_places(tick))
