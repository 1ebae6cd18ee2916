"""The backfill path: walk `condition=` pages of `/v2/trades` back to a time, keeping a window of rows.

`/v2/trades` has no "since" filter (polymarket-api.md L.2): history for a market is a walk of cursor pages,
newest first, until a row older than the window's start shows the window is fully seen. Markets go 20 to a
request (the upstream maximum), a few walks run at once, and pages stream into the batch writer, so memory
is bounded by the page and batch sizes, never by the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pm_assets.resources.data_api import MAX_CONDITIONS, DataApiSession
from pm_assets.resources.http import gather_bounded
from pm_assets.trades.fill_key import KeyedTrade, TimestampGroups
from pm_assets.trades.writer import TradeBatchWriter


@dataclass(frozen=True)
class Window:
    """Trades with start_s <= timestamp <= end_s (epoch seconds, inclusive)."""

    start_s: int
    end_s: int

    def holds(self, ts: int) -> bool:
        return self.start_s <= ts <= self.end_s


def condition_batches(condition_ids: Sequence[str], size: int = MAX_CONDITIONS) -> list[list[str]]:
    return [list(condition_ids[i : i + size]) for i in range(0, len(condition_ids), size)]


async def walk_conditions_back(
    session: DataApiSession,
    condition_ids: Sequence[str],
    window: Window,
    writer: TradeBatchWriter,
    concurrency: int = 4,
) -> int:
    """Write every fill of these markets inside `window`; returns the number of requests' batches walked."""

    def keep(kt: KeyedTrade) -> None:
        if window.holds(kt.trade.timestamp):
            writer.add(kt)
        else:
            writer.stats.outside_window += 1

    async def walk(batch: list[str]) -> None:
        groups = TimestampGroups()
        async for rows in session.trade_pages(conditions=batch):
            writer.stats.fetched += len(rows)
            for kt in groups.push(rows):
                keep(kt)
            if rows and rows[-1].timestamp < window.start_s:
                break
        for kt in groups.finish():
            keep(kt)

    batches = condition_batches(condition_ids)
    await gather_bounded([lambda b=b: walk(b) for b in batches], concurrency)
    writer.flush()
    return len(batches)
