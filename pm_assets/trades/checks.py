"""Asset checks on `trades`: unique fills, prices in [0, 1], known tokens, complete partitions, freshness.

Each check's rule is a plain function in quality.py, which the live driver also evaluates for the fills it
writes outside any run (pm_sensors/live/periodic.py LIVE_CHECKS)."""

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades import quality

TRADES = dg.AssetKey("trades")


@dg.asset_check(
    asset=TRADES,
    description="No fill is stored twice (same transaction, token, wallet, side, "
    "price, size and occurrence under two keys or two times).",
)
def trades_no_duplicate_fills(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.duplicate_fills(warehouse)


@dg.asset_check(asset=TRADES, description="Every price lies within [0, 1].")
def trades_prices_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.prices_in_range(warehouse)


@dg.asset_check(
    asset=TRADES, description="Every trade's token is in `tokens` (the market universe knows it)."
)
def trades_tokens_known(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.tokens_known(warehouse)


@dg.asset_check(
    asset=TRADES,
    description="Every backfilled past day was walked to its end, and no live-edge "
    "loss event is left unrepaired.",
)
def trades_partitions_complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.partitions_complete(warehouse)


@dg.asset_check(asset=TRADES, description="The live edge proved continuity within the last 10 minutes.")
def trades_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.live_edge_fresh(warehouse)


@dg.asset_check(
    asset=TRADES,
    description="No backfilled day received zero fills while its markets traded (markets listed before the day "
    "and trading after it, or last trades the stream saw that day): a green, empty partition is a loss.",
)
def trades_no_empty_trading_days(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return quality.no_empty_trading_days(warehouse)


trade_checks = [
    trades_no_duplicate_fills,
    trades_prices_in_range,
    trades_tokens_known,
    trades_partitions_complete,
    trades_fresh,
    trades_no_empty_trading_days,
]
