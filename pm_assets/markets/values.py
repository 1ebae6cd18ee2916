"""Upstream scalars checked against their domain: every number finite and in range, every id ASCII.

Dagster-free (the stream imports it). Python's `float()`, `int()` and `str.isdigit()` read Unicode digits
(`float("١٢٣") == 123.0`), `inf`, `nan` and `1e400`; pydantic's own `float` reads `inf` and `nan` too. An
upstream value that only parses through such leniency is garbage, and garbage that reaches the warehouse is
worse than garbage refused: these functions accept JSON numbers and ASCII numeric strings, refuse the rest
with a `ValueError` naming what was wrong, and never let an `OverflowError` or `OSError` escape (pydantic
turns a `ValueError` into a validation error; any other exception would abort the caller's whole loop).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from pm_assets.storage.urls import mask_secrets

_HEX = re.compile(r"[0-9a-f]+")
INT32_MAX = 2**31 - 1
# Polymarket (2020) to a century out: a time outside is a unit mistake or garbage, never a trade.
EPOCH_MIN_S = 1_577_836_800  # 2020-01-01
EPOCH_MAX_S = 4_102_444_800  # 2100-01-01


def shown(value: Any, limit: int = 40) -> str:
    """`value` for an error message: repr, credential-bearing URLs masked *before* it is cut to `limit`
    (cut first, a URL loses its `@` and the mask no longer sees the password)."""
    text = mask_secrets(repr(value) if not isinstance(value, str) else repr(value[: limit * 4]))
    return text if len(text) <= limit else text[:limit] + "…"


_show = shown


def finite_number(value: Any) -> float:
    """A JSON number or an ASCII numeric string, finite (`nan`, `inf`, `1e400` and Unicode digits refused)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int):
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"number out of range: {_show(value)}") from None
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text.isascii():
            raise ValueError(f"expected an ASCII number, got {_show(value)}")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a number or numeric string, got {_show(value)}") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {_show(value)}")
    return number


def price(value: Any) -> float:
    """A probability price: finite, in [0, 1]."""
    number = finite_number(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"price must be in [0, 1], got {_show(value)}")
    return number


def size(value: Any) -> float:
    """A size, volume or amount: finite, >= 0."""
    number = finite_number(value)
    if number < 0:
        raise ValueError(f"must be >= 0, got {_show(value)}")
    return number


def whole_number(value: Any, low: int, high: int) -> int:
    """An integer in [low, high] from a JSON integer or an ASCII digit string (no `1.5`, no `"١"`)."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected an integer, got {_show(value)}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 30:
            raise ValueError(f"expected an ASCII integer, got {_show(value)}")
        number = int(text)
    else:
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    if not low <= number <= high:
        raise ValueError(f"must be in [{low}, {high}], got {_show(value)}")
    return number


def hex_id(value: Any, hex_digits: int, what: str) -> str:
    """`0x` + exactly `hex_digits` hex digits, lowercased (a transaction hash is 64, a wallet 40)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    digits = text[2:]
    if not text.startswith("0x") or len(digits) != hex_digits or not _HEX.fullmatch(digits):
        raise ValueError(f"not a 0x + {hex_digits} hex {what}: {_show(value)}")
    return text


def epoch_seconds(value: Any) -> int:
    """Unix seconds between 2020 and 2100 (a millisecond value is refused, not read 1000x too late)."""
    seconds = whole_number(value, 0, 10**30)
    if seconds > EPOCH_MAX_S * 10:
        raise ValueError(f"timestamp looks like milliseconds, expected seconds: {_show(value)}")
    if not EPOCH_MIN_S <= seconds < EPOCH_MAX_S:
        raise ValueError(f"timestamp outside 2020..2100: {_show(value)}")
    return seconds


def utc_from_epoch(seconds: float) -> datetime:
    """A datetime from epoch seconds; an out-of-range value is a ValueError, never Overflow/OSError."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"timestamp out of range: {_show(seconds)}") from None


def storable_text(value: Any, limit: int = 10_000) -> str:
    """Free text bound for a text column: Postgres refuses NUL in text, so one would fail the whole COPY."""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    if "\x00" in value:
        raise ValueError("string holds a NUL character")
    if len(value) > limit:
        raise ValueError(f"string longer than {limit} characters")
    return value
