"""The insider signals in job order, as plain data and functions: each one's Launchpad config, its evaluation,
its watermark; and how far those watermarks are behind the trades.

In production the live driver (pm_sensors/live) walks `EVALUATORS` on every live pass; the assets
(insider_assets.py) and `insider_signals_job` are the backfill and rescan path, calling the same functions.
Each evaluation resolves the saved thresholds when it starts.
"""

from collections.abc import Callable
from datetime import datetime

import dagster as dg

from pm_assets.signals import fresh_wallets, risk, wallet_labels
from pm_assets.signals import size_anomalies as size_anomaly_signal
from pm_assets.signals import wallet_clusters as wallet_cluster_signal
from pm_assets.signals import watched_wallets as watched_wallet_signal
from pm_assets.signals.launchpad import launchpad_config

RESCAN = ("rescan_from", "rescan_to")
FreshWalletConfig = launchpad_config(fresh_wallets.SPEC, rescan=RESCAN)
SizeAnomalyConfig = launchpad_config(size_anomaly_signal.SPEC, rescan=RESCAN)
WalletClusterConfig = launchpad_config(wallet_cluster_signal.SPEC, rescan=RESCAN)
WalletLabelConfig = launchpad_config(wallet_labels.TUNING, rescan=RESCAN)
WatchedWalletConfig = launchpad_config(watched_wallet_signal.SPEC, rescan=RESCAN)

# The assets' work as plain functions, in job order, for the live pass (which runs them outside a run):
# (op name, evaluate(log, warehouse[, config]), config class or None).
EVALUATORS: list[tuple[str, Callable[..., dg.MaterializeResult], type[dg.Config] | None]] = [
    ("wallet_behaviour_labels", wallet_labels.evaluate, WalletLabelConfig),
    ("fresh_wallet_trades", fresh_wallets.evaluate, FreshWalletConfig),
    ("size_anomalies", size_anomaly_signal.evaluate, SizeAnomalyConfig),
    ("wallet_clusters", wallet_cluster_signal.evaluate, WalletClusterConfig),
    ("watched_wallet_trades", watched_wallet_signal.evaluate, WatchedWalletConfig),
    ("trade_risk_scores", risk.evaluate, None),
]
# asset (op) name -> threshold signal type (each run resolves that signal's saved thresholds when it starts)
CONFIGURED = {
    t.asset: t.signal_type
    for t in (
        wallet_labels.TUNING,
        fresh_wallets.SPEC,
        size_anomaly_signal.SPEC,
        wallet_cluster_signal.SPEC,
        watched_wallet_signal.SPEC,
    )
}
CURSORS = [f"signal:{name}" for name in CONFIGURED]


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
