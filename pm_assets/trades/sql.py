"""The trades domain's statements (psycopg, bound parameters): fills, cursors, loss events, heartbeats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from pm_assets.storage.bulk import UpsertResult, copy_upsert
from pm_assets.storage.jsonb import jsonb
from pm_assets.trades.fill_key import KeyedTrade

TRADE_COLUMNS = (
    "traded_at",
    "fill_key",
    "transaction_hash",
    "token_id",
    "condition_id",
    "wallet",
    "side",
    "price",
    "size",
    "outcome",
    "outcome_index",
    "occurrence",
    "is_taker",
    "source",
)
TRADE_KEY = ("traded_at", "fill_key")


def trade_row(kt: KeyedTrade, source: str) -> tuple[Any, ...]:
    t = kt.trade
    return (
        t.traded_at,
        kt.fill_key,
        t.transaction_hash.lower(),
        t.token_id,
        t.condition_id,
        t.proxy_wallet,
        t.side,
        t.price,
        t.size,
        t.outcome,
        t.known_outcome_index,
        kt.occurrence,
        True,
        source,
    )


def write_trades(conn: psycopg.Connection, rows: Iterable[Sequence[object]]) -> UpsertResult:
    """Insert fills; an existing fill key is left as it is (a fill never changes upstream)."""
    return copy_upsert(conn, "trades", TRADE_COLUMNS, rows, key=TRADE_KEY)


def read_cursor(conn: psycopg.Connection, name: str) -> tuple[datetime | None, dict]:
    row = conn.execute(
        "select complete_through, value from ingestion_cursors where name = %s", (name,)
    ).fetchone()
    return (None, {}) if row is None else (row[0], row[1] or {})


def write_cursor(conn: psycopg.Connection, name: str, complete_through: datetime | None, value: dict) -> None:
    conn.execute(
        "insert into ingestion_cursors (name, value, complete_through, updated_at) values (%s, %s, %s, now()) "
        "on conflict (name) do update set value = excluded.value, complete_through = excluded.complete_through, "
        "updated_at = now()",
        (name, jsonb(value), complete_through),
    )


def open_loss_event(
    conn: psycopg.Connection, start: datetime, end: datetime, reason: str, evidence: dict
) -> int:
    row = conn.execute(
        "insert into trade_loss_events (interval_start, interval_end, reason, evidence) values (%s, %s, %s, %s) "
        "on conflict (interval_start, interval_end) do update set evidence = excluded.evidence returning id",
        (start, end, reason, jsonb(evidence)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def open_loss_events(conn: psycopg.Connection) -> list[tuple[int, datetime, datetime]]:
    return [
        (int(r[0]), r[1], r[2])
        for r in conn.execute(
            "select id, interval_start, interval_end from trade_loss_events where repaired_at is null order by id"
        ).fetchall()
    ]


def loss_event_markets(conn: psycopg.Connection, loss_id: int) -> list[str]:
    """The markets a loss event names in its evidence (reconciliation does), else none."""
    row = conn.execute(
        "select evidence->'condition_ids' from trade_loss_events where id = %s", (loss_id,)
    ).fetchone()
    return list(row[0]) if row and row[0] else []


def mark_loss_repaired(conn: psycopg.Connection, loss_id: int, repair: dict) -> None:
    conn.execute(
        "update trade_loss_events set repaired_at = now(), repair = %s where id = %s",
        (jsonb(repair), loss_id),
    )


def earliest_open_loss_start(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute(
        "select min(interval_start) from trade_loss_events where repaired_at is null"
    ).fetchone()
    return None if row is None else row[0]


def markets_trading_since(conn: psycopg.Connection, since: datetime) -> list[str]:
    """Condition ids of markets that may have traded at or after `since` (closed a day before: no).

    Only `closed_time` filters, with a day of slack: Gamma's start and end dates are not trading bounds
    (polymarket-api.md §6.8), and a missed market here is a missed trade.
    """
    return [
        r[0]
        for r in conn.execute(
            "select condition_id from markets where closed_time is null or closed_time >= %s "
            "order by condition_id",
            (since - timedelta(days=1),),
        ).fetchall()
    ]
