"""Market-channel frames → typed events (polymarket-api.md §4).

A frame is `PONG` (text), one JSON object or a JSON array of objects. Every event carries `event_type`;
unknown types are skipped. `price_change` comes in three generations: flat (2024), `changes[]` (until
2025-09-15) and `price_changes[]` (now); all become one PriceChange holding LevelChanges. Numbers stay
strings here (as upstream sends them); books.py and persistence.py convert them where they need to.

Every field is checked here, at parse time, before an event reaches the books or the write buffer: prices
finite and in [0, 1], sizes finite and >= 0 (NaN, inf and negatives refused), asset ids ASCII decimal
strings, condition ids 0x-hex, timestamps integer milliseconds before 2100, text without NUL and bounded. A
refused event (or one refused entry of a `price_changes[]`) is reported in `errors` and `refused`, never
raised; the consumer counts, logs and quarantines it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import orjson

from pm_assets.resources.upstream_json import loads_upstream_json
from pm_assets.storage.urls import mask_secrets


class FrameError(ValueError):
    """A frame or an event inside it that cannot be understood (logged and counted, never fatal)."""


@dataclass(slots=True)
class Book:
    asset_id: str
    market: str
    ts_ms: int
    hash: str
    bids: list  # [{"price": str, "size": str}], upstream order (bids ascending)
    asks: list  # asks descending
    tick_size: str | None = None
    last_trade_price: str | None = None
    version: str | None = None


@dataclass(slots=True)
class LevelChange:
    asset_id: str
    side: str  # BUY (bid level) | SELL (ask level)
    price: str
    size: str  # the level's new aggregate size; "0" deletes it
    hash: str = ""
    best_bid: str | None = None
    best_ask: str | None = None


@dataclass(slots=True)
class PriceChange:
    market: str
    ts_ms: int
    changes: list[LevelChange]


@dataclass(slots=True)
class LastTrade:
    asset_id: str
    market: str
    ts_ms: int
    price: str
    size: str
    side: str
    fee_rate_bps: str | None = None
    transaction_hash: str = ""


@dataclass(slots=True)
class BestBidAsk:
    asset_id: str
    market: str
    ts_ms: int
    best_bid: str | None
    best_ask: str | None
    spread: str | None


@dataclass(slots=True)
class TickSizeChange:
    asset_id: str
    market: str
    ts_ms: int
    old_tick_size: str | None
    new_tick_size: str


@dataclass(slots=True)
class NewMarket:
    market: str
    ts_ms: int
    assets_ids: list[str]
    market_id: str | None
    question: str | None
    slug: str | None
    outcomes: list
    payload: dict


@dataclass(slots=True)
class MarketResolved:
    market: str
    ts_ms: int
    winning_asset_id: str | None
    winning_outcome: str | None
    assets_ids: list[str]


Event = Book | PriceChange | LastTrade | BestBidAsk | TickSizeChange | NewMarket | MarketResolved


@dataclass(slots=True)
class ParsedFrame:
    events: list = field(default_factory=list)
    pong: bool = False
    unknown: int = 0
    errors: list[str] = field(default_factory=list)
    # (the refused event or price_changes[] entry as received, why): the consumer quarantines these
    refused: list[tuple[object, str]] = field(default_factory=list)


_PONG = (b"PONG", "PONG")
_CONDITION_ID = re.compile(r"^0x[0-9a-f]{64}$")
_DECIMAL_ID = re.compile(r"[0-9]{1,78}")
_HEX_64 = re.compile(r"0x[0-9a-f]{64}")
_MAX_MS = 4_102_444_800_000  # 2100-01-01: past it a timestamp is garbage (and overflows datetime later on)
_SIDES = ("BUY", "SELL")


def parse_frame(raw: str | bytes) -> ParsedFrame:
    """Every event in one frame; bad events (and bad price_changes[] entries) are reported in `.errors` and
    `.refused`, good ones beside them survive."""
    out = ParsedFrame()
    if raw in _PONG:
        out.pong = True
        return out
    try:
        doc = loads_upstream_json(raw)
    except ValueError as exc:
        out.errors.append(f"not JSON ({exc}): {_preview(raw)}")
        out.refused.append((_preview(raw, 100_000), "not JSON"))
        return out
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        try:
            ev = _parse_item(item, out)
        except FrameError as exc:
            out.errors.append(str(exc))
            out.refused.append((item, str(exc)))
            continue
        if ev is None:
            out.unknown += 1
        else:
            out.events.append(ev)
    return out


def parse_event(item: object) -> Event | None:
    """One decoded JSON object → its event; None for an event type we do not use. FrameError when any part
    of it is refused (parse_frame keeps the good entries of a price_change instead)."""
    out = ParsedFrame()
    ev = _parse_item(item, out)
    if out.errors:
        raise FrameError(out.errors[0])
    return ev


def _parse_item(item: object, out: ParsedFrame) -> Event | None:
    if not isinstance(item, dict):
        raise FrameError(f"event is not an object: {_preview(item)}")
    kind = item.get("event_type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        return None
    try:
        return parser(item, out)
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise FrameError(f"bad {kind} event ({type(exc).__name__}: {exc}): {_preview(item)}") from None


# ---- field checks: every value in its domain, or the event (or entry) is refused ----


def _ts(item: dict) -> int:
    value = item["timestamp"]
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 16:
            raise ValueError(f"timestamp is not a millisecond integer: {_preview(repr(value), 40)}")
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
        raise ValueError(f"asset id is not an unsigned 256-bit decimal: {_preview(repr(text), 90)}")
    return text


def _asset(value: object) -> str:
    if isinstance(value, str):
        return _asset_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _asset_text(str(value))
    raise ValueError(f"asset id must be a decimal string, got {type(value).__name__}")


def _number_text(value: object, what: str) -> tuple[str, float]:
    """(the number as text, its value); JSON numbers and ASCII numeric strings only."""
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"{what} is not an ASCII number: {_preview(repr(value), 40)}")
        return value, float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return repr(number), number
    raise ValueError(f"{what} must be a number, got {type(value).__name__}")


def _price(value: object, what: str = "price") -> str:
    text, number = _number_text(value, what)
    if not 0.0 <= number <= 1.0:  # NaN fails both comparisons
        raise ValueError(f"{what} must be in [0, 1], got {_preview(repr(text), 40)}")
    return text


def _size(value: object, what: str = "size") -> str:
    text, number = _number_text(value, what)
    if not 0.0 <= number < math.inf:  # refuses NaN, inf and negatives
        raise ValueError(f"{what} must be finite and >= 0, got {_preview(repr(text), 40)}")
    return text


def _optional(check, value: object, what: str) -> str | None:  # noqa: ANN001
    return None if value is None or value == "" else check(value, what)


def _text(value: object, what: str, limit: int = 512) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > limit or "\x00" in value:
        raise ValueError(f"{what} is longer than {limit} characters or holds a NUL")
    return value


def _optional_text(value: object, what: str, limit: int = 2048) -> str | None:
    return None if value is None else _text(value, what, limit)


def _market(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"market must be a string, got {type(value).__name__}")
    return _condition_id(value)


@lru_cache(maxsize=65536)
def _condition_id(value: str) -> str:
    return normalize_condition_id(value)


def _transaction_hash(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _HEX_64.fullmatch(value.lower()):
        raise ValueError(f"transaction_hash is not 0x + 64 hex: {_preview(value, 80)}")
    return value.lower()


def _levels(value: object, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValueError(f"{what} is not an array")
    out = []
    for level in value:
        if not isinstance(level, dict):
            raise ValueError(f"{what} level is not an object")
        out.append(
            {"price": _price(level["price"], f"{what} price"), "size": _size(level["size"], f"{what} size")}
        )
    return out


def _asset_list(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("assets_ids is not an array")
    return [_asset(a) for a in value]


# ---- the parsers ----


def _book(d: dict, out: ParsedFrame) -> Book:
    bids, asks = d.get("bids"), d.get("asks")
    # Older docs name the arrays buys/sells.
    if bids is None:
        bids = d["buys"]
    if asks is None:
        asks = d["sells"]
    # One bad level refuses the whole book: a snapshot with a level missing would be a wrong book.
    return Book(
        _asset(d["asset_id"]),
        _market(d["market"]),
        _ts(d),
        _text(d.get("hash") or "", "hash", 128),
        _levels(bids, "bids"),
        _levels(asks, "asks"),
        _optional(_size, d.get("tick_size"), "tick_size"),
        _optional(_price, d.get("last_trade_price"), "last_trade_price"),
        _optional_text(d.get("version"), "version", 16),
    )


def _level_change(c: object, asset: object = None, h: object = None) -> LevelChange:
    if not isinstance(c, dict):
        raise ValueError("change is not an object")
    side = c["side"]
    if side not in _SIDES:
        raise ValueError(f"side {_preview(side, 20)}")
    return LevelChange(
        _asset(c["asset_id"] if asset is None else asset),
        side,
        _price(c["price"]),
        _size(c["size"]),
        _text((c.get("hash") if h is None else h) or "", "hash", 128),
        _optional(_price, c.get("best_bid"), "best_bid"),
        _optional(_price, c.get("best_ask"), "best_ask"),
    )


def _price_change(d: dict, out: ParsedFrame) -> PriceChange:
    market, ts = _market(d["market"]), _ts(d)
    entries = d.get("price_changes")
    if entries is not None:
        if not isinstance(entries, list):
            raise ValueError("price_changes is not an array")
        changes = []
        # Each entry is a level of its own (last writer wins per level): a bad one is refused alone.
        for c in entries:
            try:
                changes.append(_level_change(c))
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                reason = f"bad price_change entry ({type(exc).__name__}: {exc}): {_preview(c)}"
                out.errors.append(reason)
                out.refused.append(
                    ({"market": d.get("market"), "timestamp": d.get("timestamp"), **_as_dict(c)}, reason)
                )
        if not changes:
            raise ValueError("no valid entry in price_changes")
    elif "changes" in d:
        if not isinstance(d["changes"], list):
            raise ValueError("changes is not an array")
        changes = [_level_change(c, d["asset_id"], d.get("hash")) for c in d["changes"]]
    else:
        changes = [_level_change(d)]
    return PriceChange(market, ts, changes)


def _last_trade(d: dict, out: ParsedFrame) -> LastTrade:
    side = d.get("side") or ""
    if side not in ("", *_SIDES):
        raise ValueError(f"side {_preview(side, 20)}")
    return LastTrade(
        _asset(d["asset_id"]),
        _market(d["market"]),
        _ts(d),
        _price(d["price"]),
        _size(d["size"]),
        side,
        _optional(_size, d.get("fee_rate_bps"), "fee_rate_bps"),
        _transaction_hash(d.get("transaction_hash")),
    )


def _best_bid_ask(d: dict, out: ParsedFrame) -> BestBidAsk:
    return BestBidAsk(
        _asset(d["asset_id"]),
        _market(d["market"]),
        _ts(d),
        _optional(_price, d.get("best_bid"), "best_bid"),
        _optional(_price, d.get("best_ask"), "best_ask"),
        _optional(_price, d.get("spread"), "spread"),
    )


def _tick_size_change(d: dict, out: ParsedFrame) -> TickSizeChange:
    return TickSizeChange(
        _asset(d["asset_id"]),
        _market(d["market"]),
        _ts(d),
        _optional(_size, d.get("old_tick_size"), "old_tick_size"),
        _size(d["new_tick_size"], "new_tick_size"),
    )


def _new_market(d: dict, out: ParsedFrame) -> NewMarket:
    assets = d.get("assets_ids") or d.get("clob_token_ids") or []
    outcomes = d.get("outcomes") or []
    if not isinstance(outcomes, list) or not all(isinstance(o, str) and "\x00" not in o for o in outcomes):
        raise ValueError("outcomes is not an array of strings")
    market_id = d.get("id")
    if isinstance(market_id, int) and not isinstance(market_id, bool):
        market_id = str(market_id)
    payload = orjson.dumps(d).decode()  # TypeError for an integer past 64 bits: refused here, not at COPY
    if "\\u0000" in payload:
        raise ValueError("payload holds a NUL character")
    return NewMarket(
        _market(d.get("market") or d["condition_id"]),
        _ts(d),
        _asset_list(assets),
        _optional_text(market_id, "id", 64),
        _optional_text(d.get("question"), "question", 4096),
        _optional_text(d.get("slug"), "slug", 512),
        outcomes,
        d,
    )


def _market_resolved(d: dict, out: ParsedFrame) -> MarketResolved:
    winner = d.get("winning_asset_id")
    return MarketResolved(
        _market(d.get("market") or d["condition_id"]),
        _ts(d),
        None if winner is None or winner == "" else _asset(winner),
        _optional_text(d.get("winning_outcome"), "winning_outcome", 512),
        _asset_list(d.get("assets_ids")),
    )


_PARSERS = {
    "book": _book,
    "price_change": _price_change,
    "last_trade_price": _last_trade,
    "best_bid_ask": _best_bid_ask,
    "tick_size_change": _tick_size_change,
    "new_market": _new_market,
    "market_resolved": _market_resolved,
}


def _as_dict(x: object) -> dict:
    return x if isinstance(x, dict) else {"entry": x}


def _preview(x: object, limit: int = 160) -> str:
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
        raise FrameError(f"not a condition id: {_preview(repr(cid), 90)}")
    return c
