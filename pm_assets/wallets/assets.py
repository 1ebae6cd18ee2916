"""The `wallets` asset: one row per proxy wallet seen in trades, with its first activity on Polymarket."""

import dagster as dg

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.wallets.refresh import WalletRefreshSettings, refresh_wallets


class WalletsConfig(dg.Config):
    first_activity_min_trade_usdc: float = 500.0  # wallets with a fill this big get their age looked up
    max_first_activity_lookups: int = 500
    concurrency: int = 4


@dg.asset(key="wallets", group_name="wallets", kinds={"postgres"}, deps=[dg.AssetKey("trades")])
def wallets(
    context: dg.AssetExecutionContext,
    config: WalletsConfig,
    data_api: DataApiClient,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every proxy wallet seen in `trades`: trade count, USDC volume, last trade time, and its first activity
    on Polymarket from its own `/v2/activity` history (looked up once, for wallets with a fill of at least
    `first_activity_min_trade_usdc`). Refresh after `trades`; only wallets with newly ingested fills change.
    """
    settings = WalletRefreshSettings(**config.model_dump())
    return dg.MaterializeResult(
        metadata=refresh_wallets(data_api, warehouse.connect, settings, context.run_id)
    )
