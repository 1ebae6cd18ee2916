"""Dagster assets of the market signals: thin wrappers over the Dagster-free modules beside them.

Each signal asset's config comes from market_signals.py (derived from its signal's spec by
launchpad.launchpad_config) and its work is the signal module's `evaluate` (market_runs.run_market_signal): thresholds
resolve when the run starts, a value set in the Launchpad is saved as the lasting value, `what_if: true` writes
beside the table. The live run's periodic task calls the same `evaluate` every minute.
"""

from datetime import UTC, datetime

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import arbitrage, scorecard, spikes
from pm_assets.signals.launchpad import launchpad_config, run_thresholds
from pm_assets.signals.market_signals import ArbitrageConfig, SpikeConfig
from pm_assets.signals.ranking import materialize_rankings
from pm_assets.signals.scorecard import materialize_scorecard


@dg.asset(
    key="arbitrage_windows",
    group_name="signals",
    kinds={"postgres"},
    deps=["order_book_snapshots", "markets", "market_resolutions"],
)
def arbitrage_windows(
    context: dg.AssetExecutionContext, config: ArbitrageConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Arbitrage windows: binary markets and complete negRisk events whose books paid more than a set costs,
    after each market's taker fees, with open/close, peak edge, fillable depth and capturable dollars.
    Windows on ghost books, incomplete sets or held (disputed, closed...) markets are kept with
    suppressed_reason. Refreshes every minute from the stored book ticks since the last evaluation (the live
    run, `live_job`, reports it); open windows stay open (closed_at null) until a later run closes them.
    """
    return arbitrage.evaluate(context.log, warehouse, config)


@dg.asset(
    key="price_spikes",
    group_name="signals",
    kinds={"postgres"},
    deps=["trades", "price_points", "markets", "market_resolutions"],
)
def price_spikes(
    context: dg.AssetExecutionContext, config: SpikeConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Price spikes: a token moving at least P points within W minutes (trades, websocket last trades, price
    history), and markets whose traded volume in a W-minute bucket has a z-score above Z against their own
    trailing baseline. Disputed or held markets are kept with suppressed_reason. Refreshes every minute from
    prices since the last evaluation (the live run, `live_job`, reports it); re-runs update rows in place.
    """
    return spikes.evaluate(context.log, warehouse, config)


@dg.asset(
    key="market_rankings",
    group_name="signals",
    kinds={"postgres"},
    deps=["arbitrage_windows", "price_spikes", "markets", "trades"],
)
def market_rankings(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Market rankings: every open market's score (volume, liquidity, spread, 24 h price movement and signal
    activity as percentile ranks, weights in pm_assets/signals/ranking.py) with its components, one ranked_at
    per run. Refreshes on the market-signals schedule.
    """
    with warehouse.connect() as conn:
        result = materialize_rankings(conn, datetime.now(UTC).replace(microsecond=0))
    context.log.info(f"market_rankings: {result}")
    return dg.MaterializeResult(metadata={k: v for k, v in result.items() if v is not None})


ScorecardConfig = launchpad_config(scorecard.TUNING)


@dg.asset(
    key="signal_scorecard",
    group_name="signals",
    kinds={"postgres"},
    deps=[
        "arbitrage_windows",
        "price_spikes",
        "fresh_wallet_trades",
        "size_anomalies",
        "wallet_clusters",
        "watched_wallet_trades",
        "price_points",
        "market_resolutions",
    ],
)
def signal_scorecard(
    context: dg.AssetExecutionContext, config: ScorecardConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Signal scorecard: every signal scored at 1 h, 24 h and settlement (price move in its direction,
    whether it was right once resolved, paper profit of a fixed stake after taker fees). Rows fill in as
    horizons pass and markets resolve; refreshes on the market-signals schedule.
    """
    with warehouse.connect() as conn:
        values = run_thresholds(conn, scorecard.TUNING, config, context.log)
        result = materialize_scorecard(conn, values["scorecard_stake_usdc"], datetime.now(UTC))
    context.log.info(f"signal_scorecard: {result}")
    return dg.MaterializeResult(metadata={**result, "thresholds": values})


assets = [arbitrage_windows, price_spikes, market_rankings, signal_scorecard]
