"""Asset checks on order book snapshots: prices within [0, 1] and a recent capture (rules in quality.py)."""

import dagster as dg

from pm_assets.books import quality
from pm_assets.resources.warehouse import WarehouseResource


@dg.asset_check(
    asset="order_book_snapshots", description="Best bid and ask of the last hour lie within [0, 1]."
)
def book_prices_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.prices_in_range(warehouse)


@dg.asset_check(
    asset="order_book_snapshots", description="A REST snapshot was captured in the last 15 minutes."
)
def book_snapshots_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.snapshots_fresh(warehouse)


book_checks = [book_prices_in_range, book_snapshots_fresh]
