"""The books domain's statements: which tokens to snapshot, and the batch insert of snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg

from pm_assets.books.snapshots import SNAPSHOT_COLUMNS
from pm_assets.storage.bulk import UpsertResult, copy_upsert


def active_book_tokens(conn: psycopg.Connection, limit: int | None = None) -> list[str]:
    """Outcome ids of open markets that trade on the book, busiest markets first."""
    rows = conn.execute(
        "select t.token_id from tokens t join markets m using (condition_id) "
        "where m.closed is not true and m.enable_order_book is not false and t.has_book is not false "
        "and m.accepting_orders is not false "
        "order by m.volume_24h desc nulls last, t.token_id limit %s",
        (limit,),
    ).fetchall()
    return [r[0] for r in rows]


def insert_snapshots(conn: psycopg.Connection, rows: Iterable[Sequence[object]]) -> UpsertResult:
    return copy_upsert(
        conn, "order_book_snapshots", SNAPSHOT_COLUMNS, rows, key=("token_id", "captured_at", "source")
    )


def out_of_range_books(conn: psycopg.Connection, since_minutes: int) -> int:
    row = conn.execute(
        "select count(*) from order_book_snapshots where captured_at > now() - make_interval(mins => %s) "
        "and (best_bid not between 0 and 1 or best_ask not between 0 and 1)",
        (since_minutes,),
    ).fetchone()
    return int(row[0])


def latest_capture(conn: psycopg.Connection):
    return conn.execute("select max(captured_at) from order_book_snapshots where source = 'rest'").fetchone()[
        0
    ]
