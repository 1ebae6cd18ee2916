"""The signals' jobs and schedule.

- `insider_signals_job`: the insider signal assets' backfill and rescan path (a Launchpad run with `rescan_from`);
  in production the live driver (pm_sensors/live) evaluates them on every live pass, with the same functions.
- `market_signals_job` and `market_signals_schedule`: every 15 minutes, rankings and the scorecard.
  `arbitrage_windows` and `price_spikes` are evaluated every minute by the live run (pm_sensors/live/periodic.py);
  the job is the way to run all four market signals at once from the Launchpad.
"""

from typing import Any

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import arbitrage, scorecard, spikes
from pm_assets.signals.insider_assets import ASSETS as INSIDER_ASSETS

# `wallets` runs first: a fresh-wallet verdict needs the wallet's first activity, looked up by that asset.
insider_signals_job = dg.define_asset_job(
    "insider_signals_job",
    selection=dg.AssetSelection.assets("wallets", *INSIDER_ASSETS),
    description="Wallet ages, behaviour labels, fresh wallets, size anomalies, clusters, watched wallets, then risk "
    "scores.",
)

market_signals_job = dg.define_asset_job(
    "market_signals_job",
    selection=dg.AssetSelection.assets(
        "arbitrage_windows", "price_spikes", "market_rankings", "signal_scorecard"
    ),
)
SCHEDULED_MARKET_ASSETS = ("market_rankings", "signal_scorecard")
# asset (op) name -> threshold signal type of the market signal assets that take thresholds
MARKET_CONFIGURED = {t.asset: t.signal_type for t in (arbitrage.SPEC, spikes.SPEC, scorecard.TUNING)}


def market_run_config(conn: Any) -> dict[str, Any]:
    """Run config of a scheduled run: no threshold values, so each asset resolves the saved ones when it starts
    (and nothing is saved as a Launchpad value)."""
    return {"ops": {key: {"config": {}} for key in MARKET_CONFIGURED}}


@dg.schedule(
    job=market_signals_job, cron_schedule="*/15 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
def market_signals_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    """Every 15 minutes: rankings and the scorecard, with the saved threshold overrides."""
    with warehouse.connect() as conn:
        ops = market_run_config(conn)["ops"]
    return dg.RunRequest(
        asset_selection=[dg.AssetKey(k) for k in SCHEDULED_MARKET_ASSETS],
        run_config={"ops": {k: v for k, v in ops.items() if k in SCHEDULED_MARKET_ASSETS}},
    )


signal_jobs = [insider_signals_job, market_signals_job]
signal_schedules = [market_signals_schedule]
