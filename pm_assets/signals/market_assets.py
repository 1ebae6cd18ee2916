"""Dagster assets of the market signals: thin wrappers over the Dagster-free modules beside them.

Each asset's config is derived from its signal's spec (launchpad.launchpad_config): thresholds resolve when the
run starts (saved override, else PM_INTEL_<NAME>, else the documented default), a value set in the Launchpad is
saved as the lasting value, and `what_if: true` evaluates the last day (or from rescan_from) through the
backtest's replay and writes to signal_what_if, leaving the live table alone.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import arbitrage, scorecard, spikes
from pm_assets.signals.arbitrage import ArbitrageThresholds
from pm_assets.signals.launchpad import is_what_if, launchpad_config, run_thresholds, write_what_if
from pm_assets.signals.market_inputs import materialize_arbitrage
from pm_assets.signals.ranking import materialize_rankings
from pm_assets.signals.scorecard import materialize_scorecard
from pm_assets.signals.spec import Tunable
from pm_assets.signals.spikes import SpikeThresholds, materialize_spikes

WHAT_IF_SPAN = timedelta(hours=24)


def _what_if(conn, tunable: Tunable, values: dict[str, Any], rescan_from: datetime | None) -> dict[str, Any]:
    """Evaluate through the backtest's replay (the same pure rules) and store beside the live table."""
    from pm_assets.signals.backtest import EVALUATORS

    end = datetime.now(UTC)
    fired = EVALUATORS[tunable.signal_type](conn, values, rescan_from or end - WHAT_IF_SPAN, end)
    rows = [{**ref.row, "signal_key": ref.signal_key} for ref in fired]
    what_if_id, written = write_what_if(conn, tunable.signal_type, values, rows)
    return {"what_if_id": what_if_id, "what_if_table": "signal_what_if", "rows": written}


def _rescan(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise dg.Failure(description=f"rescan_from must be an ISO timestamp, got {value!r}") from exc
    if at.tzinfo is None:
        raise dg.Failure(description=f"rescan_from needs a time zone (e.g. +00:00), got {value!r}")
    return at


ArbitrageConfig = launchpad_config(arbitrage.SPEC, rescan=("rescan_from",))


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
    with warehouse.connect() as conn:
        values = run_thresholds(conn, arbitrage.SPEC, config, context.log)
        if is_what_if(config):
            result = _what_if(conn, arbitrage.SPEC, values, _rescan(config.rescan_from))
        else:
            result = materialize_arbitrage(
                conn, ArbitrageThresholds.from_values(values), rescan_from=_rescan(config.rescan_from)
            )
    context.log.info(f"arbitrage_windows: {result}")
    return dg.MaterializeResult(
        metadata={**{k: v for k, v in result.items() if v is not None}, "thresholds": values}
    )


SpikeConfig = launchpad_config(spikes.SPEC, rescan=("rescan_from",))


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
    with warehouse.connect() as conn:
        values = run_thresholds(conn, spikes.SPEC, config, context.log)
        if is_what_if(config):
            result = _what_if(conn, spikes.SPEC, values, _rescan(config.rescan_from))
        else:
            result = materialize_spikes(
                conn, SpikeThresholds.from_values(values), rescan_from=_rescan(config.rescan_from)
            )
    context.log.info(f"price_spikes: {result}")
    return dg.MaterializeResult(
        metadata={**{k: v for k, v in result.items() if v is not None}, "thresholds": values}
    )


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
