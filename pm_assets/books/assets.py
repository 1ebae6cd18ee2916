"""`order_book_snapshots`: periodic REST snapshots of the books of every active outcome id."""

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import dagster as dg
import psycopg

from pm_assets.books import sql
from pm_assets.books.snapshots import SNAPSHOT_COLUMNS, snapshot_row
from pm_assets.markets.sql import WriteTotals
from pm_assets.resources.clob import BooksResult, ClobClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.isolation import convert_each, quarantine_refused, write_isolating
from pm_assets.storage.raw_payloads import RawPayloadBuffer

WRITE_BATCH = 1000


class BookSnapshotConfig(dg.Config):
    max_tokens: int | None = None  # None: every active token; else the busiest markets' tokens first


@dg.asset(key="order_book_snapshots", group_name="books", kinds={"postgres"}, deps=["tokens"])
def order_book_snapshots(
    context: dg.AssetExecutionContext,
    config: BookSnapshotConfig,
    warehouse: WarehouseResource,
    clob: ClobClient,
) -> dg.MaterializeResult:
    """One snapshot per active outcome id and run, from CLOB `POST /books` (batches of up to 500): best bid and
    ask (max/min, never by index), spread, mid, USDC depth within 1/5/10 cents of mid, the full ladders best
    first, the book's hash and server timestamp. A token whose book answers 404 is counted as unknown and not
    stored (never as an empty book). Taken every minute by the live run (`live_job`).
    """
    captured_at = datetime.now(UTC).replace(microsecond=0)
    with warehouse.connect() as conn:
        tokens = sql.active_book_tokens(conn, config.max_tokens)
    result = snapshot_books(clob, warehouse.connect, tokens, captured_at, context.run_id)
    return dg.MaterializeResult(metadata=result)


def snapshot_books(
    clob: ClobClient,
    connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    tokens: list[str],
    captured_at: datetime,
    run_id: str | None = None,
) -> dict:
    """Fetch the books of `tokens` and store them as captured at `captured_at`; the run's metadata figures.

    The asset's work as a plain function: `pm-intel replay` calls it at the recording's own times."""
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
