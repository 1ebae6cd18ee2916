"""Warehouse upkeep assets through Dagster: partitions ahead, dashboard rollups refreshed once per trade."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.warehouse.assets import dashboard_rollups, warehouse_partitions

COND = "0x" + "ef" * 32


def test_rollups_count_each_trade_once_across_refreshes(warehouse_url):
    resources = {"warehouse": WarehouseResource(database_url=warehouse_url)}
    now = datetime.now(UTC)
    with psycopg.connect(warehouse_url) as conn:
        for i in range(3):
            conn.execute(
                "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side,"
                " price, size, source, ingested_at) values (%s, %s, '0x1', '7', %s, %s, 'BUY', 0.5, 100, 't', %s)",
                (now - timedelta(minutes=i), f"k{i}", COND, "0x" + "a" * 40, now - timedelta(minutes=5)),
            )
    assert dg.materialize([dashboard_rollups, warehouse_partitions], resources=resources).success
    assert dg.materialize(
        [dashboard_rollups], resources=resources
    ).success  # nothing new: nothing added twice
    with psycopg.connect(warehouse_url) as conn:
        volume = conn.execute(
            "select sum(volume_usdc) from market_volume_daily where condition_id = %s", (COND,)
        ).fetchone()[0]
    assert volume == 150.0
