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

from dataclasses import dataclass, field

import orjson

from pm_assets.resources.upstream_json import loads_upstream_json

from .frame_fields import (
    SIDES,
    FrameError,
    asset_id,
    asset_ids,
    condition_id_of,
    levels,
    normalize_condition_id,
    optional,
    optional_text,
    preview,
    price_text,
    size_text,
    text,
    transaction_hash,
    ts_ms,
)

__all__ = ["FrameError", "normalize_condition_id", "parse_event", "parse_frame"]


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
        out.errors.append(f"not JSON ({exc}): {preview(raw)}")
        out.refused.append((preview(raw, 100_000), "not JSON"))
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
        raise FrameError(f"event is not an object: {preview(item)}")
    kind = item.get("event_type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        return None
    try:
        return parser(item, out)
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise FrameError(f"bad {kind} event ({type(exc).__name__}: {exc}): {preview(item)}") from None


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
        asset_id(d["asset_id"]),
        condition_id_of(d["market"]),
        ts_ms(d),
        text(d.get("hash") or "", "hash", 128),
        levels(bids, "bids"),
        levels(asks, "asks"),
        optional(size_text, d.get("tick_size"), "tick_size"),
        optional(price_text, d.get("last_trade_price"), "last_trade_price"),
        optional_text(d.get("version"), "version", 16),
    )


def _level_change(c: object, asset: object = None, h: object = None) -> LevelChange:
    if not isinstance(c, dict):
        raise ValueError("change is not an object")
    side = c["side"]
    if side not in SIDES:
        raise ValueError(f"side {preview(side, 20)}")
    return LevelChange(
        asset_id(c["asset_id"] if asset is None else asset),
        side,
        price_text(c["price"]),
        size_text(c["size"]),
        text((c.get("hash") if h is None else h) or "", "hash", 128),
        optional(price_text, c.get("best_bid"), "best_bid"),
        optional(price_text, c.get("best_ask"), "best_ask"),
    )


def _price_change(d: dict, out: ParsedFrame) -> PriceChange:
    market, ts = condition_id_of(d["market"]), ts_ms(d)
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
                reason = f"bad price_change entry ({type(exc).__name__}: {exc}): {preview(c)}"
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
    if side not in ("", *SIDES):
        raise ValueError(f"side {preview(side, 20)}")
    return LastTrade(
        asset_id(d["asset_id"]),
        condition_id_of(d["market"]),
        ts_ms(d),
        price_text(d["price"]),
        size_text(d["size"]),
        side,
        optional(size_text, d.get("fee_rate_bps"), "fee_rate_bps"),
        transaction_hash(d.get("transaction_hash")),
    )


def _best_bid_ask(d: dict, out: ParsedFrame) -> BestBidAsk:
    return BestBidAsk(
        asset_id(d["asset_id"]),
        condition_id_of(d["market"]),
        ts_ms(d),
        optional(price_text, d.get("best_bid"), "best_bid"),
        optional(price_text, d.get("best_ask"), "best_ask"),
        optional(price_text, d.get("spread"), "spread"),
    )


def _tick_size_change(d: dict, out: ParsedFrame) -> TickSizeChange:
    return TickSizeChange(
        asset_id(d["asset_id"]),
        condition_id_of(d["market"]),
        ts_ms(d),
        optional(size_text, d.get("old_tick_size"), "old_tick_size"),
        size_text(d["new_tick_size"], "new_tick_size"),
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
        condition_id_of(d.get("market") or d["condition_id"]),
        ts_ms(d),
        asset_ids(assets),
        optional_text(market_id, "id", 64),
        optional_text(d.get("question"), "question", 4096),
        optional_text(d.get("slug"), "slug", 512),
        outcomes,
        d,
    )


def _market_resolved(d: dict, out: ParsedFrame) -> MarketResolved:
    winner = d.get("winning_asset_id")
    return MarketResolved(
        condition_id_of(d.get("market") or d["condition_id"]),
        ts_ms(d),
        None if winner is None or winner == "" else asset_id(winner),
        optional_text(d.get("winning_outcome"), "winning_outcome", 512),
        asset_ids(d.get("assets_ids")),
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
