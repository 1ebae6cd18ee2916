"""Asset checks on order book snapshots: prices within [0, 1] and a recent capture."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from pm_assets.books import sql
from pm_assets.resources.warehouse import WarehouseResource

FRESH_WITHIN = timedelta(minutes=15)


@dg.asset_check(
    asset="order_book_snapshots", description="Best bid and ask of the last hour lie within [0, 1]."
)
def book_prices_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        bad = sql.out_of_range_books(conn, since_minutes=60)
    return dg.AssetCheckResult(passed=bad == 0, metadata={"out_of_range": bad})


@dg.asset_check(
    asset="order_book_snapshots", description="A REST snapshot was captured in the last 15 minutes."
)
def book_snapshots_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
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


book_checks = [book_prices_in_range, book_snapshots_fresh]
