"""`order_book_snapshots`: periodic REST snapshots of the books of every active outcome id."""

from datetime import UTC, datetime

import dagster as dg

from pm_assets.books import sql
from pm_assets.books.capture import snapshot_books
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.warehouse import WarehouseResource


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
