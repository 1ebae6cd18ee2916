"""Watermarks for incremental signals: each run reads only trades ingested since its last run.

The watermark is `ingestion_cursors.complete_through` under the name 'signal:<table>', on trades.ingested_at.
ingested_at is the inserting transaction's start time, so a batch that commits late can carry an ingested_at
below a watermark already stored; every run therefore re-reads an `overlap` before the watermark. Signals key
their rows deterministically from their inputs, so the re-read rows upsert in place and never duplicate.

A rescan (backfill, threshold change) selects trades by traded_at instead and leaves the watermark alone.
Dagster-free: plain psycopg, usable by every signal module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

DEFAULT_OVERLAP = timedelta(minutes=2)


def cursor_name(table: str) -> str:
    return f"signal:{table}"


@dataclass(frozen=True)
class TradeWindow:
    """The trades one signal run evaluates (its "new" trades; context before them is the signal's own lookback).

    Incremental: ingested_at in (ingested_after, ingested_through]; ingested_after None means from the start.
    Rescan: traded_at in [traded_from, traded_to), any ingested_at; the watermark is not moved.
    """

    cursor: str
    ingested_after: datetime | None = None
    ingested_through: datetime | None = None
    traded_from: datetime | None = None
    traded_to: datetime | None = None

    @property
    def is_rescan(self) -> bool:
        return self.traded_from is not None

    @property
    def is_empty(self) -> bool:
        return not self.is_rescan and self.ingested_through is None

    def trade_filter(self, alias: str = "t") -> tuple[sql.Composable, list[object]]:
        """A WHERE fragment (without WHERE) selecting this window's trades from `trades <alias>`, and its params."""
        a = sql.Identifier(alias)
        if self.is_rescan:
            return (
                sql.SQL("{a}.traded_at >= %s and {a}.traded_at < %s").format(a=a),
                [self.traded_from, self.traded_to],
            )
        if self.ingested_through is None:
            return sql.SQL("false"), []
        if self.ingested_after is None:
            return sql.SQL("{a}.ingested_at <= %s").format(a=a), [self.ingested_through]
        return (
            sql.SQL("{a}.ingested_at > %s and {a}.ingested_at <= %s").format(a=a),
            [self.ingested_after, self.ingested_through],
        )


def read_watermark(conn: psycopg.Connection, cursor: str) -> datetime | None:
    row = conn.execute("select complete_through from ingestion_cursors where name = %s", (cursor,)).fetchone()
    return row[0] if row else None


def incremental_window(
    conn: psycopg.Connection, table: str, *, overlap: timedelta = DEFAULT_OVERLAP
) -> TradeWindow:
    """The trades ingested since this signal's watermark (minus `overlap`), up to the newest committed one.

    The upper bound is the newest ingested_at visible now, so rows committed during the run wait for the next.
    """
    cursor = cursor_name(table)
    watermark = read_watermark(conn, cursor)
    after = None if watermark is None else watermark - overlap
    if after is None:
        through = conn.execute("select max(ingested_at) from trades").fetchone()[0]
    else:
        through = conn.execute(
            "select max(ingested_at) from trades where ingested_at > %s", (after,)
        ).fetchone()[0]
    return TradeWindow(cursor=cursor, ingested_after=after, ingested_through=through)


def rescan_window(table: str, traded_from: datetime, traded_to: datetime) -> TradeWindow:
    """Re-evaluate the trades made in [traded_from, traded_to), e.g. one day of a backfill."""
    if traded_to <= traded_from:
        raise ValueError(f"rescan of {table}: traded_to {traded_to} must be after traded_from {traded_from}")
    return TradeWindow(cursor=cursor_name(table), traded_from=traded_from, traded_to=traded_to)


def new_trade_span(
    conn: psycopg.Connection, window: TradeWindow
) -> tuple[int, datetime | None, datetime | None]:
    """(count, earliest traded_at, latest traded_at) of the window's trades: where a signal's lookback starts."""
    where, params = window.trade_filter("t")
    row = conn.execute(
        sql.SQL("select count(*), min(t.traded_at), max(t.traded_at) from trades t where {}").format(where),
        params,
    ).fetchone()
    return int(row[0]), row[1], row[2]


def advance_watermark(conn: psycopg.Connection, window: TradeWindow, *, detail: dict | None = None) -> bool:
    """Record that the window's trades are evaluated; never moves a watermark backwards. False if nothing to do.

    Call in the same transaction as the signal rows' write, so a failed run leaves the watermark unmoved.
    """
    if window.is_rescan or window.ingested_through is None:
        return False
    conn.execute(
        """
        insert into ingestion_cursors (name, value, complete_through, updated_at)
        values (%s, %s, %s, now())
        on conflict (name) do update
           set complete_through = greatest(ingestion_cursors.complete_through, excluded.complete_through),
               value = excluded.value,
               updated_at = now()
        """,
        (window.cursor, Jsonb(detail or {}), window.ingested_through),
    )
    return True


# A stored row may be deleted or rewritten by an evaluation only when it is not an alert (suppressed_reason set)
# or was evaluated under the same thresholds (the ones it recorded are contained in the current ones). An alert
# evaluated under other thresholds may have been delivered: it stays as it was.
def replaceable(alias: str | None = None) -> sql.Composable:
    """The condition (one %s: the current thresholds as jsonb) a stored row must meet to be deleted or rewritten."""
    column = (lambda c: sql.Identifier(alias, c)) if alias else sql.Identifier
    return sql.SQL(
        "({} is not null or %s::jsonb @> coalesce({}->'thresholds', jsonb_build_object()))"
    ).format(column("suppressed_reason"), column("evidence"))


def alerts_under_other_thresholds(
    conn: psycopg.Connection, table: str, keys: list[str], thresholds: dict
) -> set[str]:
    """Keys among `keys` of stored alert rows evaluated under other thresholds than `thresholds`."""
    if not keys:
        return set()
    rows = conn.execute(
        sql.SQL("select signal_key from {} where signal_key = any(%s) and not {}").format(
            sql.Identifier(table), replaceable()
        ),
        (keys, Jsonb(thresholds)),
    ).fetchall()
    return {r[0] for r in rows}
