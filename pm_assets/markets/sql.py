"""The markets domain's statements: batch upserts of the universe and the reads its checks make."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
import psycopg

from pm_assets.markets.universe import EVENT_COLUMNS, MARKET_COLUMNS, TOKEN_COLUMNS
from pm_assets.storage.bulk import UpsertResult, copy_upsert

_EVENT_UPDATE = tuple(c for c in EVENT_COLUMNS if c != "event_id")
_MARKET_UPDATE = tuple(c for c in MARKET_COLUMNS if c != "condition_id")
_TOKEN_UPDATE = tuple(c for c in TOKEN_COLUMNS if c != "token_id")


@dataclass
class WriteTotals:
    staged: int = 0
    inserted: int = 0
    updated: int = 0
    quarantined_written: int = 0  # raw_payloads rows written with these (bad items, refused rows)

    def add(self, result: UpsertResult) -> None:
        self.staged += result.staged
        self.inserted += result.inserted
        self.updated += result.updated

    @property
    def skipped(self) -> int:
        return self.staged - self.inserted - self.updated


def upsert_events(conn: psycopg.Connection, rows: Iterable[Sequence[object]]) -> UpsertResult:
    return copy_upsert(conn, "events", EVENT_COLUMNS, rows, key=("event_id",), update=_EVENT_UPDATE)


def insert_event_stubs(conn: psycopg.Connection, rows: Iterable[Sequence[object]]) -> UpsertResult:
    return copy_upsert(conn, "events", EVENT_COLUMNS, rows, key=("event_id",))


def upsert_markets(conn: psycopg.Connection, rows: Iterable[Sequence[object]]) -> UpsertResult:
    return copy_upsert(conn, "markets", MARKET_COLUMNS, rows, key=("condition_id",), update=_MARKET_UPDATE)


def upsert_tokens(conn: psycopg.Connection, rows: Iterable[Sequence[object]]) -> UpsertResult:
    return copy_upsert(conn, "tokens", TOKEN_COLUMNS, rows, key=("token_id",), update=_TOKEN_UPDATE)


def record_crawl(conn: psycopg.Connection, name: str, completed_at: datetime, summary: dict) -> None:
    """Mark a full crawl complete (the freshness checks read `complete_through`)."""
    conn.execute(
        "insert into ingestion_cursors (name, value, complete_through, updated_at) values (%s, %s, %s, now()) "
        "on conflict (name) do update set value = excluded.value, complete_through = excluded.complete_through, "
        "updated_at = now()",
        (name, orjson.dumps(summary).decode(), completed_at),
    )


def crawl_completed_at(conn: psycopg.Connection, name: str) -> datetime | None:
    row = conn.execute("select complete_through from ingestion_cursors where name = %s", (name,)).fetchone()
    return row[0] if row else None


def market_counts_by_version(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute("select version, count(*) from markets group by version").fetchall())


def missing_condition_ids(conn: psycopg.Connection, condition_ids: Sequence[str]) -> list[str]:
    rows = conn.execute(
        "select c from unnest(%s::text[]) as c where not exists "
        "(select 1 from markets m where m.condition_id = c)",
        (list(condition_ids),),
    ).fetchall()
    return [r[0] for r in rows]


def out_of_range_prices(conn: psycopg.Connection) -> list[tuple[str, str, float]]:
    """(condition_id, column, value) of market prices outside [0, 1]; at most 20."""
    return conn.execute(
        "select condition_id, col, val from markets, lateral (values ('best_bid', best_bid), "
        "('best_ask', best_ask), ('last_trade_price', last_trade_price)) as v(col, val) "
        "where val < 0 or val > 1 limit 20"
    ).fetchall()
