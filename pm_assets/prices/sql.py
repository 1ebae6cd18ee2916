"""The prices domain's statements: which tokens traded on a day, and the batch upsert of points."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import psycopg

from pm_assets.prices.history import POINT_COLUMNS
from pm_assets.storage.bulk import UpsertResult, copy_upsert


def tokens_listed_during(
    conn: psycopg.Connection, start: datetime, end: datetime, limit: int | None = None
) -> list[str]:
    """Outcome ids of book-traded markets that were open at some time in [start, end)."""
    rows = conn.execute(
        "select t.token_id from tokens t join markets m using (condition_id) "
        "where m.enable_order_book is not false "
        "and (m.start_date is null or m.start_date < %s) "
        "and (m.closed_time is null or m.closed_time >= %s) "
        "and (m.closed is not true or m.closed_time is not null) "
        "order by m.volume_24h desc nulls last, t.token_id limit %s",
        (end, start, limit),
    ).fetchall()
    return [r[0] for r in rows]


def upsert_points(conn: psycopg.Connection, rows: Iterable[Sequence[object]]) -> UpsertResult:
    # Insert-only: a past bucket's price does not change, and storage/bulk.py's `returning (xmax = 0)`
    # cannot run an ON CONFLICT DO UPDATE on a partitioned table (Postgres refuses system columns there).
    return copy_upsert(conn, "price_points", POINT_COLUMNS, rows, key=("token_id", "ts", "source"))
