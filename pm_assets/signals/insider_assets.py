"""Dagster assets of the insider signals: thin wrappers over the Dagster-free signal modules beside them.

Each asset's config comes from insider_signals.py (derived from its signal's spec by launchpad.launchpad_config):
thresholds resolve when the run starts, a value set in the Launchpad is saved as the lasting value, `what_if: true`
writes beside the table.
"""

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import fresh_wallets, risk, wallet_labels
from pm_assets.signals import size_anomalies as size_anomaly_signal
from pm_assets.signals import wallet_clusters as wallet_cluster_signal
from pm_assets.signals import watched_wallets as watched_wallet_signal
from pm_assets.signals.insider_signals import (
    FreshWalletConfig,
    SizeAnomalyConfig,
    WalletClusterConfig,
    WalletLabelConfig,
    WatchedWalletConfig,
)


@dg.asset(group_name="signals", kinds={"postgres"}, deps=["trades", "tokens"])
def wallet_behaviour_labels(
    context: dg.AssetExecutionContext, config: WalletLabelConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Behaviour labels (market_maker, bot, settlement_sweeper) of the wallets that traded since the last run,
    with the measures that gave them; insider signals suppress labelled wallets by default. Refreshes after new
    trades arrive (the live run)."""
    return wallet_labels.evaluate(context.log, warehouse, config)


@dg.asset(
    group_name="signals", kinds={"postgres"}, deps=["trades", "wallets", "markets", "wallet_behaviour_labels"]
)
def fresh_wallet_trades(
    context: dg.AssetExecutionContext, config: FreshWalletConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Fresh-wallet positions: a wallet whose first Polymarket activity is recent builds a position of at least
    fresh_min_usdc in one market. One alert per wallet and market, then escalations (2x, 5x). Suppressed rows
    (sweeps, market makers, unknown age) are kept with suppressed_reason. Refreshes after new trades arrive
    (the live run); reads only trades ingested since its last run."""
    return fresh_wallets.evaluate(context.log, warehouse, config)


@dg.asset(
    group_name="signals",
    kinds={"postgres"},
    deps=["trades", "wallets", "markets", "order_book_snapshots", "wallet_behaviour_labels"],
)
def size_anomalies(
    context: dg.AssetExecutionContext, config: SizeAnomalyConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Positions large against their own market: a share of its 24 h volume or of the book depth they hit,
    weighted up in niche markets. One alert per wallet and market, then escalations; sweeps and labelled wallets
    kept as suppressed. Refreshes after new trades arrive (the live run); reads only new trades."""
    return size_anomaly_signal.evaluate(context.log, warehouse, config)


@dg.asset(group_name="signals", kinds={"postgres"}, deps=["trades", "wallets", "wallet_behaviour_labels"])
def wallet_clusters(
    context: dg.AssetExecutionContext, config: WalletClusterConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Coordinated entries: several fresh wallets entering the same outcome of one market within minutes, with
    member wallets, their ages, sizes and timing in evidence. Refreshes after new trades arrive (the live
    run); reads only the new trades' outcomes around their times."""
    return wallet_cluster_signal.evaluate(context.log, warehouse, config)


@dg.asset(
    group_name="signals", kinds={"postgres"}, deps=["trades", "wallets", "markets", "wallet_behaviour_labels"]
)
def watched_wallet_trades(
    context: dg.AssetExecutionContext, config: WatchedWalletConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Trades by wallets on the users' watchlists (Watchlists page): any trade, or a position reaching the size
    the wallet's list sets. One alert per wallet and market, then escalations (2x, 5x); sweeps and labelled
    wallets kept as suppressed. Refreshes after new trades arrive (the live run); reads only new trades."""
    return watched_wallet_signal.evaluate(context.log, warehouse, config)


@dg.asset(
    group_name="signals",
    kinds={"postgres"},
    deps=["fresh_wallet_trades", "size_anomalies", "wallet_clusters"],
)
def trade_risk_scores(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Composite risk per alert trade (trade_risk_scores) and per wallet (wallet_risk_scores): fresh wallet,
    share of daily volume, book depth, niche market and cluster membership with documented weights, and the
    reason in words. Re-scores only positions whose signal rows changed since the last run."""
    return risk.evaluate(context.log, warehouse)


ASSETS = [
    wallet_behaviour_labels,
    fresh_wallet_trades,
    size_anomalies,
    wallet_clusters,
    watched_wallet_trades,
    trade_risk_scores,
]
