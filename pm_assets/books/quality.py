"""The rules `order_book_snapshots` is checked against, as plain functions of the warehouse returning the check's
result: called by the asset checks (checks.py) and, for the snapshots its periodic task takes, by the live
driver (pm_sensors/live/periodic.py LIVE_CHECKS)."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from pm_assets.books import sql
from pm_assets.resources.warehouse import WarehouseResource

FRESH_WITHIN = timedelta(minutes=15)


def prices_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        bad = sql.out_of_range_books(conn, since_minutes=60)
    return dg.AssetCheckResult(passed=bad == 0, metadata={"out_of_range": bad})


def snapshots_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        latest = sql.latest_capture(conn)
    age = None if latest is None else datetime.now(UTC) - latest
    return dg.AssetCheckResult(
        passed=age is not None and age <= FRESH_WITHIN,
        metadata={
            "latest_capture": str(latest),
            "age_minutes": None if age is None else age.total_seconds() / 60,
        },
    )
