"""Stream events → rows of the tick tables, written in batches (one transaction a batch).

Each table's primary key (0001_foundation) makes a duplicated frame land once: rows are keyed on what the
server sent, never on when we received it. The consumer already drops the duplicates it has seen recently (its
dedupe window), so a tick batch almost never collides with stored rows: it goes through one plain COPY inside a
savepoint, and only when the key refuses it (a restart replaying what the previous consumer stored, a duplicate
older than the window) does that table's batch go again through copy_upsert's staging + ON CONFLICT.

Events are checked field by field when a frame is parsed (frames.py); one refused there never reaches this
buffer and is kept in raw_payloads (source `ws`) with the next batch instead. A row the warehouse still refuses
is isolated from its batch by bisection and quarantined the same way: it never costs the rows beside it.

Tick rows are built as COPY text (strings) on the hot path: formatting datetimes and floats inside psycopg costs
~5x more than these few string operations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import orjson
import psycopg
from psycopg import sql

from pm_assets.storage.bulk import copy_upsert
from pm_assets.storage.isolation import is_row_fault, quarantine_refused, write_isolating
from pm_assets.storage.raw_payloads import COLUMNS as RAW_COLUMNS
from pm_assets.storage.raw_payloads import RawPayloadBuffer

from .frames import (
    BestBidAsk,
    Book,
    FrameError,
    LastTrade,
    MarketResolved,
    NewMarket,
    PriceChange,
    TickSizeChange,
    normalize_condition_id,
)

HEARTBEAT_PART = "stream_consumer"
# Sent in the transaction that stores trade ticks (so it arrives only once they are committed): wakes the live
# driver (pm_sensors/live/driver.py), which polls the trade feed for those fills. Payload: newest tick's epoch s.
TRADE_TICKS_CHANNEL = "pm_intel_trade_ticks"
QUARANTINE = "raw_payloads"  # a taken batch's refused events, written with its rows


@dataclass(frozen=True)
class TableSpec:
    columns: tuple[str, ...]
    key: tuple[str, ...]
    update: tuple[str, ...] = ()


TABLES: dict[str, TableSpec] = {
    "ws_book_snapshots": TableSpec(
        (
            "server_ts",
            "token_id",
            "book_hash",
            "condition_id",
            "received_at",
            "bids",
            "asks",
            "tick_size",
            "last_trade_price",
            "version",
        ),
        ("token_id", "server_ts", "book_hash"),
    ),
    "ws_price_changes": TableSpec(
        (
            "server_ts",
            "token_id",
            "side",
            "price",
            "change_hash",
            "condition_id",
            "size",
            "best_bid",
            "best_ask",
            "received_at",
        ),
        ("token_id", "server_ts", "side", "price", "change_hash"),
    ),
    "ws_last_trades": TableSpec(
        (
            "server_ts",
            "token_id",
            "price",
            "size",
            "side",
            "transaction_hash",
            "condition_id",
            "fee_rate_bps",
            "received_at",
        ),
        ("token_id", "server_ts", "price", "size", "side", "transaction_hash"),
    ),
    "ws_best_bid_ask": TableSpec(
        ("server_ts", "token_id", "condition_id", "best_bid", "best_ask", "spread", "received_at"),
        ("token_id", "server_ts"),
    ),
    "ws_tick_size_changes": TableSpec(
        ("server_ts", "token_id", "condition_id", "old_tick_size", "new_tick_size", "received_at"),
        ("token_id", "server_ts"),
    ),
    "ws_new_markets": TableSpec(
        (
            "condition_id",
            "market_id",
            "question",
            "slug",
            "assets_ids",
            "outcomes",
            "server_ts",
            "received_at",
            "payload",
        ),
        ("condition_id",),
    ),
    # The websocket learns of a resolution first; /v2/resolutions ingestion later refreshes the richer fields.
    "market_resolutions": TableSpec(
        (
            "condition_id",
            "status",
            "winning_token_id",
            "winning_outcome",
            "resolved_at",
            "source",
            "updated_at",
        ),
        ("condition_id",),
        ("status", "winning_token_id", "winning_outcome", "resolved_at", "updated_at"),
    ),
    "stream_health": TableSpec(
        (
            "connection_id",
            "event",
            "started_at",
            "ended_at",
            "messages",
            "lag_ms_p50",
            "lag_ms_p99",
            "detail",
        ),
        ("connection_id", "event", "started_at"),
        ("ended_at", "messages", "lag_ms_p50", "lag_ms_p99", "detail"),
    ),
    "heartbeats": TableSpec(
        ("part", "last_beat_at", "started_at", "run_id", "detail"),
        ("part",),
        ("last_beat_at", "started_at", "run_id", "detail"),
    ),
}
HEALTH_UPSERT = """
    insert into stream_health (connection_id, event, started_at, ended_at, messages, lag_ms_p50, lag_ms_p99, detail)
    values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)
    on conflict (connection_id, event, started_at) do update set ended_at = excluded.ended_at,
        messages = excluded.messages, lag_ms_p50 = excluded.lag_ms_p50, lag_ms_p99 = excluded.lag_ms_p99,
        detail = excluded.detail
"""
HEARTBEAT_UPSERT = """
    insert into heartbeats (part, last_beat_at, started_at, run_id, detail) values (%s, %s, %s, %s, %s::jsonb)
    on conflict (part) do update set last_beat_at = excluded.last_beat_at, started_at = excluded.started_at,
        run_id = excluded.run_id, detail = excluded.detail
"""
TICK_TABLES = (
    "ws_book_snapshots",
    "ws_price_changes",
    "ws_last_trades",
    "ws_best_bid_ask",
    "ws_tick_size_changes",
)


@lru_cache(maxsize=65536)
def _cid(market: str) -> str:
    return normalize_condition_id(market)


@lru_cache(maxsize=4096)
def _second(sec: int) -> str:
    return datetime.fromtimestamp(sec, UTC).replace(tzinfo=None).isoformat(" ")


def _ts(ms: int) -> str:
    """A server millisecond timestamp as timestamptz text (frames of one second share the formatted part)."""
    return f"{_second(ms // 1000)}.{ms % 1000:03d}+00"


def received_text(t: float) -> str:
    """A wall-clock receive time (seconds) as timestamptz text, to the microsecond."""
    us = round(t * 1_000_000)
    return f"{_second(us // 1_000_000)}.{us % 1_000_000:06d}+00"


def _float(x: str) -> str:
    # Validated here, not by the server: one unparsable number must cost its event, never its whole batch.
    return repr(float(x))


def _num(x: str | None) -> str | None:
    return repr(float(x)) if x not in (None, "") else None


def _json(x: object) -> str:
    return orjson.dumps(x).decode()


@dataclass
class RowBuffer:
    """Rows waiting for the next flush, per table (and the refused events to quarantine with them)."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in TABLES})
    pending: int = 0
    quarantine: RawPayloadBuffer = field(default_factory=lambda: RawPayloadBuffer("ws"))

    def refuse(self, endpoint: str, item: object, reason: str) -> None:
        """Keep a refused event or entry as evidence; written to raw_payloads with the next batch."""
        try:
            body = item if isinstance(item, str) else json.dumps(item, default=repr, ensure_ascii=False)
        except (ValueError, RecursionError):  # nested past the encoder's depth: the reason is what matters
            body = f"<a {type(item).__name__} too deep to write back as JSON>"
        self.quarantine.add(endpoint, {}, None, body, error=reason, quarantined=True)

    def add(self, event: object, received_at: str) -> None:
        """Rows of one event (`received_at` from received_text); FrameError when a field cannot be stored."""
        try:
            self._add(event, received_at)
        except (ValueError, TypeError, OverflowError, OSError) as exc:
            if isinstance(exc, FrameError):
                raise
            raise FrameError(f"unstorable {type(event).__name__}: {exc}") from None

    def _add(self, ev: object, rec: str) -> None:
        rows = self.rows
        if isinstance(ev, PriceChange):
            ts, cid, out = _ts(ev.ts_ms), _cid(ev.market), rows["ws_price_changes"]
            for c in ev.changes:
                out.append(
                    (
                        ts,
                        c.asset_id,
                        c.side,
                        _float(c.price),
                        c.hash,
                        cid,
                        _float(c.size),
                        _num(c.best_bid),
                        _num(c.best_ask),
                        rec,
                    )
                )
            self.pending += len(ev.changes)
        elif isinstance(ev, Book):
            rows["ws_book_snapshots"].append(
                (
                    _ts(ev.ts_ms),
                    ev.asset_id,
                    ev.hash,
                    _cid(ev.market),
                    rec,
                    _json(ev.bids),
                    _json(ev.asks),
                    _num(ev.tick_size),
                    _num(ev.last_trade_price),
                    ev.version,
                )
            )
            self.pending += 1
        elif isinstance(ev, LastTrade):
            rows["ws_last_trades"].append(
                (
                    _ts(ev.ts_ms),
                    ev.asset_id,
                    _float(ev.price),
                    _float(ev.size),
                    ev.side,
                    ev.transaction_hash,
                    _cid(ev.market),
                    _num(ev.fee_rate_bps),
                    rec,
                )
            )
            self.pending += 1
        elif isinstance(ev, BestBidAsk):
            rows["ws_best_bid_ask"].append(
                (
                    _ts(ev.ts_ms),
                    ev.asset_id,
                    _cid(ev.market),
                    _num(ev.best_bid),
                    _num(ev.best_ask),
                    _num(ev.spread),
                    rec,
                )
            )
            self.pending += 1
        elif isinstance(ev, TickSizeChange):
            rows["ws_tick_size_changes"].append(
                (
                    _ts(ev.ts_ms),
                    ev.asset_id,
                    _cid(ev.market),
                    _num(ev.old_tick_size),
                    _float(ev.new_tick_size),
                    rec,
                )
            )
            self.pending += 1
        elif isinstance(ev, NewMarket):
            rows["ws_new_markets"].append(
                (
                    _cid(ev.market),
                    ev.market_id,
                    ev.question,
                    ev.slug,
                    _json(ev.assets_ids),
                    _json(ev.outcomes),
                    _ts(ev.ts_ms),
                    rec,
                    _json(ev.payload),
                )
            )
            self.pending += 1
        elif isinstance(ev, MarketResolved):
            rows["market_resolutions"].append(
                (
                    _cid(ev.market),
                    "resolved",
                    ev.winning_asset_id,
                    ev.winning_outcome,
                    _ts(ev.ts_ms),
                    "ws",
                    rec,
                )
            )
            self.pending += 1

    def add_health(
        self,
        connection_id: str,
        event: str,
        started_at: datetime,
        ended_at: datetime | None = None,
        messages: int | None = None,
        lag_p50: float | None = None,
        lag_p99: float | None = None,
        detail: dict | None = None,
    ) -> None:
        self.rows["stream_health"].append(
            (connection_id, event, started_at, ended_at, messages, lag_p50, lag_p99, _json(detail or {}))
        )

    def set_heartbeat(
        self, beat_at: datetime, started_at: datetime, run_id: str | None, detail: dict
    ) -> None:
        self.rows["heartbeats"] = [(HEARTBEAT_PART, beat_at, started_at, run_id, _json(detail))]

    def take(self) -> dict[str, list[tuple]]:
        taken, self.rows, self.pending = self.rows, {t: [] for t in TABLES}, 0
        batch = {t: r for t, r in taken.items() if r}
        if self.quarantine.records:
            batch[QUARANTINE], self.quarantine.records = self.quarantine.records, []
        return batch


def prepare_writer(conn: psycopg.Connection, synchronous_commit: str = "off") -> None:
    """Session settings of the tick writer's connection.

    synchronous_commit=off: a commit returns before its WAL reaches the disk, so a database crash can lose the
    last few hundred ms of committed ticks (never corrupt or half-write a batch). The consumer's book resync after
    a reconnect and the Data API trade feed (which ws_last_trades are reconciled against) cover that window.
    """
    conn.execute("select set_config('synchronous_commit', %s, false)", (synchronous_commit,))
    conn.commit()


def write_batch(conn: psycopg.Connection, batch: dict[str, list[tuple]]) -> dict[str, int]:
    """Write one taken buffer in one transaction; returns rows inserted per table.

    A row the warehouse refuses (a value no check at parse time caught) is isolated by bisecting its table's
    rows, written to raw_payloads (`write <table>`, with the database's reason) instead, and counted under
    `raw_payloads`; every other row of the batch is written. Only a failure that is not a row's fault (the
    connection) fails the batch, which the consumer then keeps for the next flush.
    """
    inserted: dict[str, int] = {}
    refused: list[tuple] = []
    keep = _refused_into(refused)
    with conn.transaction():
        ticks = {t: rows for t, rows in batch.items() if t in TICK_TABLES}
        if ticks:
            inserted.update(_append_ticks(conn, ticks, keep))
        if batch.get("ws_last_trades"):
            conn.execute(
                "select pg_notify(%s, %s)", (TRADE_TICKS_CHANNEL, newest_tick_second(batch["ws_last_trades"]))
            )
        for table, rows in batch.items():
            if table == QUARANTINE or table in TICK_TABLES:
                continue
            spec = TABLES[table]
            if table == "stream_health":
                # A handful of rows, and an identity column a LIKE-staged COPY cannot fill: a plain upsert.
                with conn.cursor() as cur:
                    cur.executemany(HEALTH_UPSERT, rows)
                inserted[table] = len(rows)
            elif table == "heartbeats":
                # One row every few seconds: one statement, not a staging table's five.
                conn.execute(HEARTBEAT_UPSERT, rows[-1])
                inserted[table] = 1
            else:
                results = write_isolating(
                    conn,
                    rows,
                    lambda part, t=table, sp=spec: copy_upsert(
                        conn, t, sp.columns, part, key=sp.key, update=sp.update
                    ),
                    keep(table),
                )
                inserted[table] = sum(r.inserted for r in results)
        quarantined = batch.get(QUARANTINE, []) + refused
        if quarantined:
            _copy_quarantine(conn, quarantined)
            inserted[QUARANTINE] = len(quarantined)
    return inserted


def newest_tick_second(rows: list[tuple]) -> str:
    """The newest row's server second as epoch text ("" when unreadable: the driver then polls once)."""
    try:
        newest = datetime.strptime(max(r[0] for r in rows)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except (ValueError, TypeError, IndexError):
        return ""
    return str(int(newest.timestamp()))


def _refused_into(out: list[tuple]):  # noqa: ANN202
    def for_table(table: str):  # noqa: ANN202
        buffer = RawPayloadBuffer("ws")
        keep = quarantine_refused(buffer, table, TABLES[table].columns)

        def refused(row, exc) -> None:  # noqa: ANN001
            keep(row, exc)
            out.extend(buffer.records)
            buffer.records.clear()

        return refused

    return for_table


def _append_ticks(conn: psycopg.Connection, ticks: dict[str, list[tuple]], keep) -> dict[str, int]:  # noqa: ANN001
    """Plain COPY of every tick table in one savepoint; when a key (or a bad row) refuses it, table by table
    again: a duplicate through staging + ON CONFLICT, a bad row isolated and quarantined."""
    try:
        with conn.transaction():
            for table, rows in ticks.items():
                _copy(conn, table, rows)
        return {t: len(rows) for t, rows in ticks.items()}
    except psycopg.Error as exc:
        # rolled back to the savepoint: nothing of these COPYs is left, the rest of the batch is intact
        if conn.broken or not (isinstance(exc, psycopg.errors.UniqueViolation) or is_row_fault(exc)):
            raise
    inserted = {}
    for table, rows in ticks.items():
        results = write_isolating(conn, rows, lambda part, t=table: _write_ticks(conn, t, part), keep(table))
        inserted[table] = sum(results)
    return inserted


def _write_ticks(conn: psycopg.Connection, table: str, rows: Sequence[tuple]) -> int:
    try:
        with conn.transaction():
            _copy(conn, table, rows)
        return len(rows)
    except psycopg.errors.UniqueViolation:
        return copy_upsert(conn, table, TABLES[table].columns, rows, key=TABLES[table].key).inserted


def _copy_quarantine(conn: psycopg.Connection, records: list[tuple]) -> None:
    cols = sql.SQL(", ").join(map(sql.Identifier, RAW_COLUMNS))
    with conn.cursor() as cur, cur.copy(sql.SQL("copy raw_payloads ({}) from stdin").format(cols)) as copy:
        for record in records:
            copy.write_row(record)


def _copy(conn: psycopg.Connection, table: str, rows: list[tuple]) -> None:
    with conn.cursor() as cur, cur.copy(_copy_sql(table)) as copy:
        for row in rows:
            copy.write_row(row)


@lru_cache(maxsize=16)
def _copy_sql(table: str) -> sql.Composed:
    cols = sql.SQL(", ").join(map(sql.Identifier, TABLES[table].columns))
    return sql.SQL("copy {} ({}) from stdin").format(sql.Identifier(table), cols)


def last_heartbeat(conn: psycopg.Connection) -> tuple[datetime, dict] | None:
    """(last beat, detail) of the stream consumer, as the previous consumer left it."""
    row = conn.execute(
        "select last_beat_at, detail from heartbeats where part = %s", (HEARTBEAT_PART,)
    ).fetchone()
    return (row[0], row[1]) if row else None
