"""The `wallets` asset: one row per proxy wallet seen in trades, with its first activity on Polymarket."""


import asyncio

import dagster as dg

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.trades.sql import read_cursor, write_cursor
from pm_assets.wallets import sql
from pm_assets.wallets.first_activity import first_activity_times


class WalletsConfig(dg.Config):
    first_activity_min_trade_usdc: float = 500.0  # wallets with a fill this big get their age looked up
    max_first_activity_lookups: int = 500
    concurrency: int = 4


@dg.asset(key="wallets", group_name="wallets", kinds={"postgres"}, deps=[dg.AssetKey("trades")])
def wallets(
    context: dg.AssetExecutionContext, config: WalletsConfig, data_api: DataApiClient, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Every proxy wallet seen in `trades`: trade count, USDC volume, last trade time, and its first activity
    on Polymarket from its own `/v2/activity` history (looked up once, for wallets with a fill of at least
    `first_activity_min_trade_usdc`). Refresh after `trades`; only wallets with newly ingested fills change.
    """
    with warehouse.connect() as conn:
        since, _ = read_cursor(conn, sql.AGGREGATE_CURSOR)
        touched, newest = sql.touched_since(conn, since)
        if newest is not None:
            write_cursor(conn, sql.AGGREGATE_CURSOR, newest, {"wallets_touched_last_run": touched})
        conn.commit()
        pending = sql.wallets_needing_first_activity(
            conn, config.first_activity_min_trade_usdc, config.max_first_activity_lookups
        )
    quarantine = RawPayloadBuffer("data_api", run_id=context.run_id)

    async def lookup() -> tuple[list, list[str], dict]:
        async with data_api.session(quarantine=quarantine) as session:
            found, failed = await first_activity_times(session, pending, config.concurrency)
            return found, failed, {**session.http.stats.as_metadata(), "pages": session.pages}

    found, failed, stats = asyncio.run(lookup()) if pending else ([], [], {})
    with warehouse.connect() as conn:
        written = sql.write_first_activities(conn, found)
        quarantine.flush(conn)
    return dg.MaterializeResult(metadata={
        **stats, "wallets_aggregated": touched, "first_activity_lookups": len(pending),
        "first_activity_written": written, "first_activity_failed": len(failed),
    })
