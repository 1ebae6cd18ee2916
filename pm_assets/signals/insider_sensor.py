"""Runs the insider signals after new trades arrive; each run resolves the saved thresholds when it starts.

The sensor looks at the newest trades.ingested_at against the insider signals' watermarks; the run key is that
newest ingested_at, so one batch of trades launches exactly one run however often the sensor ticks. While the
stream's insider fast lane is healthy it does that work in seconds, and the sensor only covers what it leaves.
"""

from collections.abc import Callable
from datetime import datetime

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals import fresh_wallets, risk, wallet_labels
from pm_assets.signals import size_anomalies as size_anomaly_signal
from pm_assets.signals import wallet_clusters as wallet_cluster_signal
from pm_assets.signals.insider_assets import (
    ASSETS,
    FreshWalletConfig,
    SizeAnomalyConfig,
    WalletClusterConfig,
    WalletLabelConfig,
)
from pm_assets.storage import heartbeats

# The assets' work as plain functions, in job order, for the stream's insider fast lane (which runs them outside
# a run): (op name, evaluate(log, warehouse[, config]), config class or None).
EVALUATORS: list[tuple[str, Callable[..., dg.MaterializeResult], type[dg.Config] | None]] = [
    ("wallet_behaviour_labels", wallet_labels.evaluate, WalletLabelConfig),
    ("fresh_wallet_trades", fresh_wallets.evaluate, FreshWalletConfig),
    ("size_anomalies", size_anomaly_signal.evaluate, SizeAnomalyConfig),
    ("wallet_clusters", wallet_cluster_signal.evaluate, WalletClusterConfig),
    ("trade_risk_scores", risk.evaluate, None),
]
# asset (op) name -> threshold signal type (each run resolves that signal's saved thresholds when it starts)
CONFIGURED = {
    t.asset: t.signal_type
    for t in (wallet_labels.TUNING, fresh_wallets.SPEC, size_anomaly_signal.SPEC, wallet_cluster_signal.SPEC)
}
CURSORS = [f"signal:{name}" for name in CONFIGURED]

# `wallets` runs first: a fresh-wallet verdict needs the wallet's first activity, looked up by that asset.
insider_signals_job = dg.define_asset_job(
    "insider_signals_job",
    selection=dg.AssetSelection.assets("wallets", *ASSETS),
    description="Wallet ages, behaviour labels, fresh wallets, size anomalies, clusters, then risk scores.",
)


def insider_run_config(conn) -> dict:
    """Run config of a sensor-launched run: no threshold values, so each asset resolves the saved ones (override
    store, environment, documented default) when it starts and nothing is saved as a Launchpad value."""
    return {"ops": {op: {"config": {}} for op in CONFIGURED}}


# The polling path's share of trade-to-alert latency (the stream's fast lane is seconds).
SENSOR_INTERVAL_S = 30
# While the stream's insider fast lane passes (an ok heartbeat under LANE_FRESH_S old), it evaluates new trades
# within seconds, so the sensor launches only for trades it has left unevaluated for LANE_GRACE_S (fills the
# live-edge sensor stored while no tick woke the lane, a lane that fell behind): a safety net, not a redundant
# run every 30 s in the run list.
LANE_PART = "insider_fast_lane"
LANE_FRESH_S = 60.0
LANE_GRACE_S = 90.0


@dg.sensor(
    job=insider_signals_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def insider_signals_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Launches the insider signals when trades were ingested past their watermarks (one run per batch)."""
    with warehouse.connect() as conn:
        newest, behind = watermarks_behind(conn)
        if newest is None:
            return dg.SkipReason("no trades yet")
        if not behind:
            return dg.SkipReason(f"signals are current through {newest.isoformat()}")
        waiting = _left_to_the_fast_lane(conn, behind)
        if waiting is not None:
            return dg.SkipReason(waiting)
        config = insider_run_config(conn)
    return dg.RunRequest(run_key=f"insider:{newest.isoformat()}", run_config=config)


def watermarks_behind(conn) -> tuple[datetime | None, list[datetime | None]]:
    """(the newest trades.ingested_at, the insider signals' watermarks behind it; None = never evaluated)."""
    newest = conn.execute("select max(ingested_at) from trades").fetchone()[0]
    if newest is None:
        return None, []
    marks = dict(
        conn.execute(
            "select name, complete_through from ingestion_cursors where name = any(%s)", (CURSORS,)
        ).fetchall()
    )
    return newest, [marks.get(c) for c in CURSORS if marks.get(c) is None or marks[c] < newest]


def _left_to_the_fast_lane(conn, marks: list) -> str | None:
    """Why this tick leaves the new trades to a healthy fast lane, or None when the sensor must launch."""
    lane = heartbeats.last_beat(conn, LANE_PART)
    if lane is None or lane[0] > LANE_FRESH_S or lane[1].get("ok") is not True or None in marks:
        return None
    oldest_waiting_s = conn.execute(
        "select extract(epoch from now() - min(ingested_at))::float8 from trades where ingested_at > %s",
        (min(marks),),
    ).fetchone()[0]
    if oldest_waiting_s is None or oldest_waiting_s >= LANE_GRACE_S:
        return None
    return (
        f"the stream's insider fast lane is evaluating new trades (last pass {lane[0]:.0f}s ago); the oldest "
        f"unevaluated trade is {oldest_waiting_s:.0f}s old, this sensor launches once one is {LANE_GRACE_S:.0f}s old"
    )
