"""In-memory order books kept equal to the server's: `book` snapshots are the truth, `price_change` deltas
(absolute level sizes, "0" deletes) go on top.

The channel has no sequence numbers (polymarket-api.md §4.4), only millisecond timestamps. Because a delta
carries the level's absolute size, each level is a last-writer-wins register keyed by timestamp: a delta older
than what the level already reflects is dropped, so duplicated and reordered frames converge to the same book.
A snapshot replaces the book but keeps the few level writes newer than itself (a delta that overtook it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .frames import Book, LevelChange

BID, ASK = "BUY", "SELL"
_MAX_WRITES = 4096
_REORDER_WINDOW_MS = 60_000


@dataclass
class OrderBook:
    asset_id: str
    market: str = ""
    bids: dict[float, float] = field(default_factory=dict)
    asks: dict[float, float] = field(default_factory=dict)
    snapshot_ts: int = -1
    snapshot_hash: str = ""
    last_ts: int = -1
    tick_size: str | None = None
    synced: bool = False  # a snapshot arrived on the current connection
    # (side, price) -> timestamp of the newest delta applied after the snapshot; size 0 writes stay as tombstones
    _writes: dict[tuple[str, float], tuple[int, float]] = field(default_factory=dict)

    def apply_snapshot(self, book: Book) -> bool:
        """Replace the book with `book`; False when it is older than (or the same as) what we hold."""
        ts = book.ts_ms
        if ts < self.snapshot_ts or (ts == self.snapshot_ts and book.hash == self.snapshot_hash):
            if ts == self.snapshot_ts:
                self.synced = True
            return False
        bids = {float(lv["price"]): float(lv["size"]) for lv in book.bids}
        asks = {float(lv["price"]): float(lv["size"]) for lv in book.asks}
        newer = {k: v for k, v in self._writes.items() if v[0] > ts}
        for (side, price), (_wts, size) in newer.items():
            levels = bids if side == BID else asks
            if size > 0:
                levels[price] = size
            else:
                levels.pop(price, None)
        self.bids, self.asks, self._writes = bids, asks, newer
        self.snapshot_ts, self.snapshot_hash = ts, book.hash
        self.last_ts = max(self.last_ts, ts)
        self.market = book.market or self.market
        if book.tick_size:
            self.tick_size = book.tick_size
        self.synced = True
        return True

    def apply_change(self, ts: int, change: LevelChange) -> bool:
        """Set one level; False when the book already reflects something newer for that level."""
        if ts < self.snapshot_ts:
            return False
        price = float(change.price)
        key = (change.side, price)
        prev = self._writes.get(key)
        if prev is not None and prev[0] > ts:
            return False
        size = float(change.size)
        self._writes[key] = (ts, size)
        levels = self.bids if change.side == BID else self.asks
        if size > 0:
            levels[price] = size
        else:
            levels.pop(price, None)
        if ts > self.last_ts:
            self.last_ts = ts
        if len(self._writes) > _MAX_WRITES:
            # Bounded memory on books that never get a fresh snapshot: forget writes far outside any reorder window.
            horizon = self.last_ts - _REORDER_WINDOW_MS
            self._writes = {k: v for k, v in self._writes.items() if v[0] >= horizon}
        return True

    def levels(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """(bids best first, asks best first) as (price, size)."""
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())

    def best_bid(self) -> float | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> float | None:
        return min(self.asks) if self.asks else None


def levels_of(book: dict) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """A REST /book or WS book payload in the same shape as OrderBook.levels(), for comparisons."""
    bids = sorted(((float(x["price"]), float(x["size"])) for x in book.get("bids", [])), reverse=True)
    asks = sorted((float(x["price"]), float(x["size"])) for x in book.get("asks", []))
    return bids, asks


class BookSet:
    """Every book the consumer holds, by asset id."""

    def __init__(self) -> None:
        self.books: dict[str, OrderBook] = {}
        # Unsubscribed assets: frames already in flight must not bring their books back.
        self.dropped: set[str] = set()

    def get(self, asset_id: str) -> OrderBook | None:
        book = self.books.get(asset_id)
        if book is None and asset_id not in self.dropped:
            book = self.books[asset_id] = OrderBook(asset_id)
        return book

    def apply_snapshot(self, book: Book) -> bool:
        held = self.get(book.asset_id)
        return held is not None and held.apply_snapshot(book)

    def apply_changes(self, ts: int, changes: list[LevelChange]) -> int:
        """Apply a price_change's level changes; returns how many were applied (not stale)."""
        applied = 0
        for change in changes:
            book = self.get(change.asset_id)
            if book is not None and book.apply_change(ts, change):
                applied += 1
        return applied

    def watch(self, asset_ids: list[str]) -> None:
        self.dropped.difference_update(asset_ids)

    def mark_unsynced(self) -> None:
        """After a reconnect every book waits for its fresh snapshot before it counts as synced again."""
        for book in self.books.values():
            book.synced = False

    def drop(self, asset_ids: list[str]) -> None:
        for a in asset_ids:
            self.books.pop(a, None)
        self.dropped.update(asset_ids)

    def unsynced(self) -> list[str]:
        return [a for a, b in self.books.items() if not b.synced]
