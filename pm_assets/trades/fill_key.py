"""A stable key for a fill: the Data API has no fill id (polymarket-api.md L.2).

fill_key = sha1 over (transaction_hash, token_id, wallet, side, price, size, occurrence), where occurrence
is the ordinal (0, 1, ...) of fills identical in those six fields inside one transaction: two fills can
agree on every field and both are real.

The ordinal is only stable if it is counted over *all* rows of the transaction. Every row of a transaction
has the same block time, and the feeds are newest first, so `TimestampGroups` holds back the rows of the
oldest second seen so far and releases a second only once a strictly older row (or the end of the walk)
proves it complete. A transaction split across two pages is therefore counted once, whole; re-runs,
overlapping pages, the global feed and the per-market `condition=` walks all see the same rows of a
(transaction, token) and so give the same keys.

A walk cut short (a feed that stops paging, a walk stopped at its time boundary) may see only some of a
transaction's identical fills. That is safe: identical fills are interchangeable, so k of n of them get
occurrences 0..k-1, a subset of the keys the whole transaction gives; a later full view adds the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pm_assets.trades.models import Trade

IdentityFields = tuple[str, str, str, str, str, str]


def fill_identity(trade: Trade) -> IdentityFields:
    """The six upstream fields that identify a fill up to its occurrence; floats as shortest round-trip text."""
    return (
        trade.transaction_hash.lower(),
        trade.token_id,
        trade.proxy_wallet,
        trade.side,
        repr(float(trade.price)),
        repr(float(trade.size)),
    )


def fill_key(identity: IdentityFields, occurrence: int) -> str:
    return hashlib.sha1("|".join((*identity, str(occurrence))).encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class KeyedTrade:
    trade: Trade
    fill_key: str
    occurrence: int


def keyed_fills(complete_rows: Iterable[Trade]) -> list[KeyedTrade]:
    """Key rows that hold every row of each of their transactions (e.g. one complete timestamp group)."""
    seen: dict[IdentityFields, int] = {}
    out = []
    for trade in complete_rows:
        identity = fill_identity(trade)
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        out.append(KeyedTrade(trade, fill_key(identity, occurrence), occurrence))
    return out


class TimestampGroups:
    """Turns a newest-first stream of rows into keyed fills, releasing each second once it is complete.

    A row newer than the second being held would mean the feed is not newest first for that row: it cannot
    be keyed with its transaction's other rows (their second may be released already), so it is set aside
    in `misordered` for the caller to quarantine, never keyed wrongly, and the walk goes on.
    """

    def __init__(self) -> None:
        self._second: int | None = None
        self._pending: list[Trade] = []
        self.misordered: list[Trade] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    def push(self, rows: Iterable[Trade]) -> Iterator[KeyedTrade]:
        for trade in rows:
            if self._second is None or trade.timestamp == self._second:
                self._second = trade.timestamp
                self._pending.append(trade)
                continue
            if trade.timestamp > self._second:
                self.misordered.append(trade)
                continue
            yield from self._release()
            self._second = trade.timestamp
            self._pending.append(trade)

    def finish(self) -> Iterator[KeyedTrade]:
        """The walk ended (feed exhausted or stopped below its window): the held second is complete."""
        yield from self._release()
        self._second = None

    def take_misordered(self) -> list[Trade]:
        taken, self.misordered = self.misordered, []
        return taken

    def _release(self) -> Iterator[KeyedTrade]:
        rows, self._pending = self._pending, []
        yield from keyed_fills(rows)


def keyed_page_stream(pages: Iterable[Iterable[Trade]]) -> Iterator[KeyedTrade]:
    """Key a whole finished walk (all pages); convenience for tests and small walks."""
    groups = TimestampGroups()
    for page in pages:
        yield from groups.push(page)
    yield from groups.finish()
