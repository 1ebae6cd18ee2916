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
from pm_assets.resources.rows import RejectedRow, ValidatedRows
from pm_assets.trades.fill_key import KeyedTrade, TimestampGroups
from pm_assets.trades.models import Trade
from pm_assets.trades.writer import TradeBatchWriter


@dataclass(frozen=True)
class Window:
    """Trades with start_s <= timestamp <= end_s (epoch seconds, inclusive)."""

    start_s: int
    end_s: int

    def holds(self, ts: int) -> bool:
        return self.start_s <= ts <= self.end_s


def rejected_bounds(
    page: ValidatedRows[Trade], bad: RejectedRow, newer_s: int | None
) -> tuple[int | None, int | None]:
    """(oldest, newest) second a rejected row can have: its own time if readable, else the valid rows
    around it in the newest-first feed (`newer_s`: the last valid row of the pages before; None: unbounded)."""
    if bad.timestamp is not None:
        return bad.timestamp, bad.timestamp
    newer = page.rows[bad.good_before - 1].timestamp if bad.good_before else newer_s
    older = page.rows[bad.good_before].timestamp if bad.good_before < len(page.rows) else None
    return older, newer


def _overlaps(bounds: tuple[int | None, int | None], start_s: int, end_s: int) -> bool:
    older, newer = bounds
    return (older is None or older <= end_s) and (newer is None or newer >= start_s)


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
        newer_s: int | None = None  # the last valid row's time: bounds a rejected row without its own
        async for page in session.trade_pages(conditions=batch):
            writer.stats.fetched += page.served
            # A bad row is this walk's to quarantine when it may lie inside the window; one older than the
            # window belongs to another walk.
            mine = [
                bad
                for bad in page.rejected
                if _overlaps(rejected_bounds(page, bad, newer_s), window.start_s, window.end_s)
            ]
            session.quarantine(mine, page.served)
            writer.stats.quarantined_rows += len(mine)
            for kt in groups.push(page.rows):
                keep(kt)
            misordered = groups.take_misordered()
            session.quarantine_misordered(misordered)
            writer.stats.quarantined_rows += len(misordered)
            if page.rows:
                newer_s = page.rows[-1].timestamp
            if page.rows and page.rows[-1].timestamp < window.start_s:
                break
        for kt in groups.finish():
            keep(kt)

    batches = condition_batches(condition_ids)
    await gather_bounded([lambda b=b: walk(b) for b in batches], concurrency)
    writer.flush()
    return len(batches)
