"""Run a trade load: one Data API session, one warehouse connection, one batch writer, and its metadata.

The asset, the repair job and the live-edge sensor all go through `run_trade_load`, so each reports the
same figures (rows fetched / inserted / skipped as duplicates, quarantined payloads, requests, 429s,
rate-limit waits, loss events opened / repaired).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import psycopg

from pm_assets.resources.data_api import DataApiClient, DataApiSession
from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.trades import sql
from pm_assets.trades.walks import Window, walk_conditions_back
from pm_assets.trades.writer import DEFAULT_BATCH_SIZE, TradeBatchWriter

T = TypeVar("T")
Connect = Callable[[], AbstractContextManager[psycopg.Connection]]


@dataclass
class LoadOutcome:
    value: Any
    metadata: dict[str, Any]


def run_trade_load(
    data_api: DataApiClient,
    connect: Connect,
    body: Callable[[DataApiSession, TradeBatchWriter], Awaitable[T]],
    *,
    run_id: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadOutcome:
    quarantine = RawPayloadBuffer("data_api", run_id=run_id)

    async def go(conn: psycopg.Connection) -> tuple[T, dict[str, Any]]:
        async with data_api.session(quarantine=quarantine, transport=transport) as session:
            writer = TradeBatchWriter(conn, quarantine, batch_size=batch_size)
            try:
                value = await body(session, writer)
            finally:
                writer.flush()  # quarantined payloads of a failed walk are kept too
            meta = {**writer.stats.as_metadata(), **session.http.stats.as_metadata(), "pages": session.pages}
            return value, meta

    with connect() as conn:
        value, meta = asyncio.run(go(conn))
    return LoadOutcome(value, meta)


def day_window(start: datetime, end: datetime) -> Window:
    """A partition's [start, end) as an inclusive window in epoch seconds."""
    return Window(int(start.timestamp()), int(end.timestamp()) - 1)


async def backfill_trade_window(
    session: DataApiSession, writer: TradeBatchWriter, start: datetime, end: datetime, concurrency: int = 4
) -> dict[str, Any]:
    """Every fill in [start, end) of every market that may have traded then; records the day as covered."""
    conn = writer.conn
    markets = sql.markets_trading_since(conn, start)
    conn.commit()
    walked_at = datetime.now(UTC)
    await walk_conditions_back(session, markets, day_window(start, end), writer, concurrency=concurrency)
    covered_through = min(end, walked_at - timedelta(seconds=1))
    sql.write_cursor(
        conn,
        f"trades_day:{start.date().isoformat()}",
        covered_through,
        {
            "markets": len(markets),
            "walked_at": walked_at.isoformat(),
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        },
    )
    conn.commit()
    return {"markets_walked": len(markets), "covered_through": covered_through.isoformat()}
