"""One refresh of `wallets`: aggregate the wallets touched since the last refresh, then look up the first
activity of those a signal can care about. Shared by the `wallets` asset and the live pass.

The live pass looks up only the wallets its new fills touched: an upstream lookup per wallet is the slowest step
of the path to an alert, and a backlog (a start-up's first poll, wallets past a pass's cap, failed lookups) must
not stand in front of the wallet that just traded. The live run drains the backlog on a timer of its own
(`look_up_first_activities`, pm_sensors/live/periodic.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

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
    only_touched: bool = False  # look up only wallets with fills ingested since the last aggregation
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
    touched_after = (since or datetime.min.replace(tzinfo=UTC)) if settings.only_touched else None
    return {
        **look_up_first_activities(data_api, connect, settings, run_id, touched_after=touched_after),
        "wallets_aggregated": touched,
    }


def look_up_first_activities(
    data_api: DataApiClient,
    connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    settings: WalletRefreshSettings,
    run_id: str | None = None,
    *,
    touched_after: datetime | None = None,
) -> dict:
    """First activity of the unchecked wallets that matter (a fill of at least the minimum), biggest first; with
    `touched_after`, only those with a fill ingested after it."""
    with connect() as conn:
        pending = sql.wallets_needing_first_activity(
            conn, settings.first_activity_min_trade_usdc, settings.max_first_activity_lookups, touched_after
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
        "first_activity_lookups": len(pending),
        "first_activity_written": written,
        "first_activity_failed": len(failed),
        "first_activity_deferred": len(pending) - len(found) - len(failed),  # left for the next refresh
    }
