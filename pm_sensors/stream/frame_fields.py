"""Field checks of market-channel events: every value in its domain, or the event (or entry) is refused.

Prices finite and in [0, 1], sizes finite and >= 0 (NaN, inf and negatives refused), asset ids ASCII decimal
strings (`int()` would read "١٢٣" as 123), condition ids 0x-hex, integer millisecond timestamps before 2100,
text without NUL and bounded. Each check raises ValueError (or FrameError) naming the field; numbers stay the
strings upstream sent.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from pm_assets.storage.urls import mask_secrets

_CONDITION_ID = re.compile(r"^0x[0-9a-f]{64}$")
_DECIMAL_ID = re.compile(r"[0-9]{1,78}")
_HEX_64 = re.compile(r"0x[0-9a-f]{64}")
_MAX_MS = 4_102_444_800_000  # 2100-01-01: past it a timestamp is garbage (and overflows datetime later on)
SIDES = ("BUY", "SELL")


class FrameError(ValueError):
    """A frame or an event inside it that cannot be understood (logged and counted, never fatal)."""


# ---- field checks: every value in its domain, or the event (or entry) is refused ----


def ts_ms(item: dict) -> int:
    value = item["timestamp"]
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 16:
            raise ValueError(f"timestamp is not a millisecond integer: {preview(repr(value), 40)}")
        ms = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value
    else:
        raise ValueError(f"timestamp is not a millisecond integer: {type(value).__name__}")
    if not 0 <= ms < _MAX_MS:
        raise ValueError(f"timestamp out of range: {ms}")
    return ms


@lru_cache(maxsize=65536)
def _asset_text(text: str) -> str:
    # ASCII digits only: int() would read "١٢٣" as 123.
    if not _DECIMAL_ID.fullmatch(text) or int(text) >= 2**256:
        raise ValueError(f"asset id is not an unsigned 256-bit decimal: {preview(repr(text), 90)}")
    return text


def asset_id(value: object) -> str:
    if isinstance(value, str):
        return _asset_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _asset_text(str(value))
    raise ValueError(f"asset id must be a decimal string, got {type(value).__name__}")


def _number_text(value: object, what: str) -> tuple[str, float]:
    """(the number as text, its value); JSON numbers and ASCII numeric strings only."""
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"{what} is not an ASCII number: {preview(repr(value), 40)}")
        return value, float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return repr(number), number
    raise ValueError(f"{what} must be a number, got {type(value).__name__}")


def price_text(value: object, what: str = "price") -> str:
    text, number = _number_text(value, what)
    if not 0.0 <= number <= 1.0:  # NaN fails both comparisons
        raise ValueError(f"{what} must be in [0, 1], got {preview(repr(text), 40)}")
    return text


def size_text(value: object, what: str = "size") -> str:
    text, number = _number_text(value, what)
    if not 0.0 <= number < math.inf:  # refuses NaN, inf and negatives
        raise ValueError(f"{what} must be finite and >= 0, got {preview(repr(text), 40)}")
    return text


def optional(check, value: object, what: str) -> str | None:  # noqa: ANN001
    return None if value is None or value == "" else check(value, what)


def text(value: object, what: str, limit: int = 512) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > limit or "\x00" in value:
        raise ValueError(f"{what} is longer than {limit} characters or holds a NUL")
    return value


def optional_text(value: object, what: str, limit: int = 2048) -> str | None:
    return None if value is None else text(value, what, limit)


def condition_id_of(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"market must be a string, got {type(value).__name__}")
    return _condition_id(value)


@lru_cache(maxsize=65536)
def _condition_id(value: str) -> str:
    return normalize_condition_id(value)


def transaction_hash(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _HEX_64.fullmatch(value.lower()):
        raise ValueError(f"transaction_hash is not 0x + 64 hex: {preview(value, 80)}")
    return value.lower()


def levels(value: object, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValueError(f"{what} is not an array")
    out = []
    for level in value:
        if not isinstance(level, dict):
            raise ValueError(f"{what} level is not an object")
        out.append(
            {
                "price": price_text(level["price"], f"{what} price"),
                "size": size_text(level["size"], f"{what} size"),
            }
        )
    return out


def asset_ids(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("assets_ids is not an array")
    return [asset_id(a) for a in value]


def preview(x: object, limit: int = 160) -> str:
    text = x.decode("utf-8", "replace") if isinstance(x, bytes | bytearray) else str(x)
    # Masked before it is cut: a cut URL loses its `@` and the mask would no longer see the password.
    text = mask_secrets(text[: limit * 4])
    return text if len(text) <= limit else text[:limit] + "…"


def normalize_condition_id(cid: str) -> str:
    """The 66-character form: Protocol V2's 62-hex Gamma form gets its trailing `00` (polymarket-api.md L.1)."""
    c = cid.strip().lower()
    if not c.startswith("0x"):
        c = "0x" + c
    if len(c) == 64:
        c += "00"
    if not _CONDITION_ID.match(c):
        raise FrameError(f"not a condition id: {preview(repr(cid), 90)}")
    return c
