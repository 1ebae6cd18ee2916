"""Pure conversion of a CLOB book into an `order_book_snapshots` row.

Upstream sorts bids ascending and asks descending, best LAST (polymarket-api.md §2.1; the OpenAPI text says
the opposite), and empty books show extreme levels: so the best prices are max(bids) / min(asks), never an
index. Ladders are stored best first as compact `[[price, size], …]` arrays. Depth is the USDC (price × size)
resting within 1, 5 and 10 cents of the mid; with one side empty there is no mid and each side's depth is
measured from its own best price.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from pm_assets.books.models import BookLevel, ClobBook

DEPTH_BANDS = {"1c": 0.01, "5c": 0.05, "10c": 0.10}
EPSILON = 1e-9  # prices are decimal strings: 0.49 + 0.01 must count as inside the 1-cent band

SNAPSHOT_COLUMNS = (
    "captured_at",
    "token_id",
    "condition_id",
    "source",
    "book_timestamp",
    "book_hash",
    "best_bid",
    "best_ask",
    "spread",
    "mid",
    "bid_depth_usdc",
    "ask_depth_usdc",
    "bids",
    "asks",
)


def best_bid(book: ClobBook) -> float | None:
    return max((lvl.price for lvl in book.bids if lvl.size > 0), default=None)


def best_ask(book: ClobBook) -> float | None:
    return min((lvl.price for lvl in book.asks if lvl.size > 0), default=None)


def _depth(levels: list[BookLevel], reference: float | None, below: bool) -> dict[str, float]:
    if reference is None:
        return {band: 0.0 for band in DEPTH_BANDS}
    out = {}
    for band, width in DEPTH_BANDS.items():
        if below:
            inside = (lvl for lvl in levels if lvl.price >= reference - width - EPSILON)
        else:
            inside = (lvl for lvl in levels if lvl.price <= reference + width + EPSILON)
        out[band] = round(sum(lvl.price * lvl.size for lvl in inside), 6)
    return out


def _ladder(levels: list[BookLevel], descending: bool) -> str:
    ordered = sorted(levels, key=lambda lvl: lvl.price, reverse=descending)
    return orjson.dumps([[lvl.price, lvl.size] for lvl in ordered]).decode()


def snapshot_row(book: ClobBook, captured_at: datetime, source: str = "rest") -> tuple:
    bid, ask = best_bid(book), best_ask(book)
    both = bid is not None and ask is not None
    mid = round((bid + ask) / 2, 6) if both else None
    spread = round(ask - bid, 6) if both else None
    return (
        captured_at,
        book.asset_id,
        book.market,
        source,
        book.timestamp,
        book.hash,
        bid,
        ask,
        spread,
        mid,
        orjson.dumps(_depth(book.bids, mid if both else bid, below=True)).decode(),
        orjson.dumps(_depth(book.asks, mid if both else ask, below=False)).decode(),
        _ladder(book.bids, descending=True),
        _ladder(book.asks, descending=False),
    )
