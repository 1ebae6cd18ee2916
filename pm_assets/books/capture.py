"""Capturing order books: fetch them from CLOB `POST /books` and store them as `order_book_snapshots` rows."""

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

import psycopg

from pm_assets.books import sql
from pm_assets.books.snapshots import SNAPSHOT_COLUMNS, snapshot_row
from pm_assets.markets.sql import WriteTotals
from pm_assets.resources.clob import BooksResult, ClobClient
from pm_assets.storage.isolation import convert_each, quarantine_refused, write_isolating
from pm_assets.storage.raw_payloads import RawPayloadBuffer

WRITE_BATCH = 1000


def snapshot_books(
    clob: ClobClient,
    connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    tokens: list[str],
    captured_at: datetime,
    run_id: str | None = None,
) -> dict:
    """Fetch the books of `tokens` and store them as captured at `captured_at`; the run's metadata figures.

    The asset's work as a plain function: the live run calls it every minute, `pm-intel replay` at the
    recording's own times."""
    raw = RawPayloadBuffer("clob", run_id)

    async def fetch() -> tuple[BooksResult, dict]:
        async with clob.session(quarantine=raw) as session:
            return await session.books(tokens), session.stats.as_metadata()

    result, stats = asyncio.run(fetch())
    rows = convert_each(list(result.books.values()), lambda b: snapshot_row(b, captured_at), raw, "books")
    totals = WriteTotals()
    refused = quarantine_refused(raw, "order_book_snapshots", SNAPSHOT_COLUMNS)
    with connect() as conn:
        for start in range(0, max(len(rows), 1), WRITE_BATCH):
            batch = rows[start : start + WRITE_BATCH]
            for part in write_isolating(conn, batch, lambda p: sql.insert_snapshots(conn, p), refused):
                totals.add(part)
            totals.quarantined_written += raw.flush(conn)
            conn.commit()
    return {
        "captured_at": captured_at.isoformat(),
        "tokens_requested": len(tokens),
        "books_fetched": len(rows),
        "books_unknown_404": len(result.unknown),
        "books_quarantined": len(result.rejected),
        "rows_inserted": totals.inserted,
        "rows_skipped_duplicates": totals.skipped,
        "quarantined_payloads_written": totals.quarantined_written,
        **stats,
    }
