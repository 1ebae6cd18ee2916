"""Market-channel frames → typed events (polymarket-api.md §4).

A frame is `PONG` (text), one JSON object or a JSON array of objects. Every event carries `event_type`;
unknown types are skipped. `price_change` comes in three generations: flat (2024), `changes[]` (until
2025-09-15) and `price_changes[]` (now); all become one PriceChange holding LevelChanges. Numbers stay
strings here (as upstream sends them); books.py and persistence.py convert them where they need to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import orjson


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


_PONG = (b"PONG", "PONG")
_CONDITION_ID = re.compile(r"^0x[0-9a-f]{64}$")


def parse_frame(raw: str | bytes) -> ParsedFrame:
    """Every event in one frame; bad events are reported in `.errors`, good ones beside them survive."""
    out = ParsedFrame()
    if raw in _PONG:
        out.pong = True
        return out
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        out.errors.append(f"not JSON ({exc}): {_preview(raw)}")
        return out
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        try:
            ev = parse_event(item)
        except FrameError as exc:
            out.errors.append(str(exc))
            continue
        if ev is None:
            out.unknown += 1
        else:
            out.events.append(ev)
    return out


def parse_event(item: object) -> Event | None:
    """One decoded JSON object → its event; None for an event type we do not use."""
    if not isinstance(item, dict):
        raise FrameError(f"event is not an object: {_preview(item)}")
    kind = item.get("event_type")
    parser = _PARSERS.get(kind)  # type: ignore[arg-type]
    if parser is None:
        return None
    try:
        return parser(item)
    except (KeyError, TypeError, ValueError) as exc:
        raise FrameError(f"bad {kind} event ({type(exc).__name__}: {exc}): {_preview(item)}") from None


def _ts(item: dict) -> int:
    return int(item["timestamp"])


def _book(d: dict) -> Book:
    bids, asks = d.get("bids"), d.get("asks")
    # Older docs name the arrays buys/sells.
    if bids is None:
        bids = d["buys"]
    if asks is None:
        asks = d["sells"]
    if not isinstance(bids, list) or not isinstance(asks, list):
        raise ValueError("bids/asks are not arrays")
    return Book(
        d["asset_id"],
        d["market"],
        _ts(d),
        d.get("hash") or "",
        bids,
        asks,
        d.get("tick_size"),
        d.get("last_trade_price"),
        d.get("version"),
    )


def _price_change(d: dict) -> PriceChange:
    market, ts = d["market"], _ts(d)
    entries = d.get("price_changes")
    if entries is not None:
        changes = [
            LevelChange(
                c["asset_id"],
                c["side"],
                c["price"],
                c["size"],
                c.get("hash") or "",
                c.get("best_bid"),
                c.get("best_ask"),
            )
            for c in entries
        ]
    elif "changes" in d:
        asset, h = d["asset_id"], d.get("hash") or ""
        changes = [LevelChange(asset, c["side"], c["price"], c["size"], h) for c in d["changes"]]
    else:
        changes = [LevelChange(d["asset_id"], d["side"], d["price"], d["size"], d.get("hash") or "")]
    for c in changes:
        if c.side not in ("BUY", "SELL"):
            raise ValueError(f"side {c.side!r}")
    return PriceChange(market, ts, changes)


def _last_trade(d: dict) -> LastTrade:
    return LastTrade(
        d["asset_id"],
        d["market"],
        _ts(d),
        d["price"],
        d["size"],
        d.get("side") or "",
        d.get("fee_rate_bps"),
        d.get("transaction_hash") or "",
    )


def _best_bid_ask(d: dict) -> BestBidAsk:
    return BestBidAsk(
        d["asset_id"], d["market"], _ts(d), d.get("best_bid"), d.get("best_ask"), d.get("spread")
    )


def _tick_size_change(d: dict) -> TickSizeChange:
    return TickSizeChange(d["asset_id"], d["market"], _ts(d), d.get("old_tick_size"), d["new_tick_size"])


def _new_market(d: dict) -> NewMarket:
    assets = d.get("assets_ids") or d.get("clob_token_ids") or []
    return NewMarket(
        d.get("market") or d["condition_id"],
        _ts(d),
        [str(a) for a in assets],
        d.get("id"),
        d.get("question"),
        d.get("slug"),
        d.get("outcomes") or [],
        d,
    )


def _market_resolved(d: dict) -> MarketResolved:
    return MarketResolved(
        d.get("market") or d["condition_id"],
        _ts(d),
        d.get("winning_asset_id"),
        d.get("winning_outcome"),
        [str(a) for a in d.get("assets_ids") or []],
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


def _preview(x: object, limit: int = 160) -> str:
    text = x.decode("utf-8", "replace") if isinstance(x, bytes | bytearray) else str(x)
    return text if len(text) <= limit else text[:limit] + "…"


def normalize_condition_id(cid: str) -> str:
    """The 66-character form: Protocol V2's 62-hex Gamma form gets its trailing `00` (polymarket-api.md L.1)."""
    c = cid.strip().lower()
    if not c.startswith("0x"):
        c = "0x" + c
    if len(c) == 64:
        c += "00"
    if not _CONDITION_ID.match(c):
        raise FrameError(f"not a condition id: {cid!r}")
    return c
