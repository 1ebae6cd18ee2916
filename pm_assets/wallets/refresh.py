"""One refresh of `wallets`: aggregate the wallets touched since the last refresh, then look up the first
activity of those a signal can care about. Shared by the `wallets` asset and the live pass."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import psycopg

from pm_assets.resources.data_api import DataApiClient
from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.trades.sql import read_cursor, write_cursor
from pm_assets.wallets import sql
from pm_assets.wallets.first_activity import first_activity_times


@dataclass(frozen=True)
class WalletRefreshSettings:
    first_activity_min_trade_usdc: float = 500.0  # wallets with a fill this big get their age looked up
    max_first_activity_lookups: int = 500
    concurrency: int = 4
    # Seconds of lookups per refresh (None: until done). The live pass sets one: a slow Data API must not hold a
    # pass (and its heartbeat) for minutes; the wallets left over are looked up by the next pass.
    lookup_budget_s: float | None = None


def refresh_wallets(
    data_api: DataApiClient,
    connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    settings: WalletRefreshSettings,
    run_id: str | None = None,
) -> dict:
    """Aggregates then looks up first activities; returns the figures a run reports as metadata."""
    with connect() as conn:
        since, _ = read_cursor(conn, sql.AGGREGATE_CURSOR)
        touched, newest = sql.touched_since(conn, since)
        if newest is not None:
            write_cursor(conn, sql.AGGREGATE_CURSOR, newest, {"wallets_touched_last_run": touched})
        conn.commit()
        pending = sql.wallets_needing_first_activity(
            conn, settings.first_activity_min_trade_usdc, settings.max_first_activity_lookups
        )
    quarantine = RawPayloadBuffer("data_api", run_id=run_id)

    async def lookup() -> tuple[list, list[str], dict]:
        async with data_api.session(quarantine=quarantine) as session:
            found, failed = await first_activity_times(
                session, pending, settings.concurrency, settings.lookup_budget_s
            )
            return found, failed, {**session.http.stats.as_metadata(), "pages": session.pages}

    found, failed, stats = asyncio.run(lookup()) if pending else ([], [], {})
    with connect() as conn:
        written = sql.write_first_activities(conn, found)
        quarantine.flush(conn)
    return {
        **stats,
        "wallets_aggregated": touched,
        "first_activity_lookups": len(pending),
        "first_activity_written": written,
        "first_activity_failed": len(failed),
        "first_activity_deferred": len(pending) - len(found) - len(failed),  # left for the next refresh
    }
