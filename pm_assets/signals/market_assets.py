"""Dagster assets of the market signals: thin wrappers over the Dagster-free modules beside them.

Each Config's defaults come from the threshold catalogue (env PM_INTEL_<NAME>); the schedule applies the
dashboard's overrides with `thresholds.run_config_values`, and a Launchpad value wins over both. Values are
validated by the catalogue's rules before a run does anything, so a bad value fails the run with its reason.
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import catalogue  # noqa: F401  (fills the threshold catalogue)
from pm_assets.signals import thresholds as th
from pm_assets.signals.arbitrage import ArbitrageThresholds
from pm_assets.signals.market_inputs import materialize_arbitrage
from pm_assets.signals.ranking import materialize_rankings
from pm_assets.signals.scorecard import materialize_scorecard
from pm_assets.signals.spikes import SpikeThresholds, materialize_spikes


def _d(signal_type: str, name: str) -> Any:
    return th.default_value(signal_type, name)


def _validated(signal_type: str, config: dg.Config) -> dict[str, Any]:
    values = {}
    for name in th.catalogue()[signal_type]:
        try:
            values[name] = th.validate(signal_type, name, getattr(config, name))
        except th.ThresholdError as exc:
            raise dg.Failure(description=f"invalid threshold: {exc}") from exc
    return values


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


class ArbitrageConfig(dg.Config):
    arbitrage_min_edge: float = _d("arbitrage", "arbitrage_min_edge")
    arbitrage_reaction_s: float = _d("arbitrage", "arbitrage_reaction_s")
    arbitrage_max_stake_usdc: float = _d("arbitrage", "arbitrage_max_stake_usdc")
    arbitrage_ghost_extreme: float = _d("arbitrage", "arbitrage_ghost_extreme")
    arbitrage_ghost_min_usdc: float = _d("arbitrage", "arbitrage_ghost_min_usdc")
    arbitrage_ghost_max_deviation: float = _d("arbitrage", "arbitrage_ghost_max_deviation")
    rescan_from: str | None = None


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
    suppressed_reason. Refreshes from the stored book ticks since the last run (the stream supervisor and
    the signals schedule launch it); open windows stay open (closed_at null) until a later run closes them.
    """
    values = _validated("arbitrage", config)
    with warehouse.connect() as conn:
        result = materialize_arbitrage(
            conn, ArbitrageThresholds.from_values(values), rescan_from=_rescan(config.rescan_from)
        )
    context.log.info(f"arbitrage_windows: {result}")
    return dg.MaterializeResult(metadata={k: v for k, v in result.items() if v is not None})


class SpikeConfig(dg.Config):
    spike_min_move_points: float = _d("price_spike", "spike_min_move_points")
    spike_window_minutes: int = _d("price_spike", "spike_window_minutes")
    spike_volume_z: float = _d("price_spike", "spike_volume_z")
    spike_baseline_hours: int = _d("price_spike", "spike_baseline_hours")
    spike_min_volume_usdc: float = _d("price_spike", "spike_min_volume_usdc")
    spike_confirm_prints: int = _d("price_spike", "spike_confirm_prints")
    spike_move_z: float = _d("price_spike", "spike_move_z")
    spike_vol_hours: float = _d("price_spike", "spike_vol_hours")
    spike_volume_min_fills: int = _d("price_spike", "spike_volume_min_fills")
    spike_volume_fills_z: float = _d("price_spike", "spike_volume_fills_z")
    rescan_from: str | None = None


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
    trailing baseline. Disputed or held markets are kept with suppressed_reason. Refreshes from prices since
    the last run (the stream supervisor and the signals schedule launch it); re-runs update rows in place.
    """
    values = _validated("price_spike", config)
    with warehouse.connect() as conn:
        result = materialize_spikes(
            conn, SpikeThresholds.from_values(values), rescan_from=_rescan(config.rescan_from)
        )
    context.log.info(f"price_spikes: {result}")
    return dg.MaterializeResult(metadata={k: v for k, v in result.items() if v is not None})


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


class ScorecardConfig(dg.Config):
    scorecard_stake_usdc: float = _d("scorecard", "scorecard_stake_usdc")


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
    values = _validated("scorecard", config)
    with warehouse.connect() as conn:
        result = materialize_scorecard(conn, values["scorecard_stake_usdc"], datetime.now(UTC))
    context.log.info(f"signal_scorecard: {result}")
    return dg.MaterializeResult(metadata=result)


SIGNAL_CONFIG = {
    "arbitrage_windows": "arbitrage",
    "price_spikes": "price_spike",
    "signal_scorecard": "scorecard",
}

market_signals_job = dg.define_asset_job(
    "market_signals_job",
    selection=dg.AssetSelection.assets(
        "arbitrage_windows", "price_spikes", "market_rankings", "signal_scorecard"
    ),
)


def market_run_config(conn: Any) -> dict[str, Any]:
    """Run config carrying the dashboard's saved overrides over the environment defaults."""
    return {
        "ops": {
            key: {"config": th.run_config_values(conn, signal_type)}
            for key, signal_type in SIGNAL_CONFIG.items()
        }
    }


@dg.schedule(
    job=market_signals_job, cron_schedule="*/15 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
def market_signals_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    """Every 15 minutes: arbitrage, spikes, rankings and the scorecard, with the saved threshold overrides."""
    with warehouse.connect() as conn:
        run_config = market_run_config(conn)
    return dg.RunRequest(run_config=run_config)


assets = [arbitrage_windows, price_spikes, market_rankings, signal_scorecard]
jobs = [market_signals_job]
schedules = [market_signals_schedule]
