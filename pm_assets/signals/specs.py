"""Every signal, listed once (Dagster-free): alerts, the scorecard, rankings, the dashboards, the threshold editor,
the backtest and the Dagster assets' Launchpad config read these lists.

Adding a signal: one module declaring its `SPEC` (pm_assets/signals/spec.py), its line here, and one migration
for its table. tests/unit/signals/test_signal_specs.py proves each listed signal is wired everywhere.
"""

from __future__ import annotations

from pm_assets.signals import (
    arbitrage,
    fresh_wallets,
    scorecard,
    size_anomalies,
    spikes,
    wallet_clusters,
    wallet_labels,
    watched_wallets,
)
from pm_assets.signals.spec import SignalSpec, Tunable

SIGNALS: tuple[SignalSpec, ...] = (
    fresh_wallets.SPEC,
    arbitrage.SPEC,
    spikes.SPEC,
    size_anomalies.SPEC,
    wallet_clusters.SPEC,
    watched_wallets.SPEC,
)
# Everything whose thresholds users edit: the signals, plus the labels the insider signals read and the scorecard.
TUNABLES: tuple[Tunable, ...] = (*SIGNALS, wallet_labels.TUNING, scorecard.TUNING)

BY_TYPE = {s.signal_type: s for s in SIGNALS}
BY_TABLE = {s.table: s for s in SIGNALS}
TUNABLE_BY_TYPE = {t.signal_type: t for t in TUNABLES}
TUNABLE_BY_ASSET = {t.asset: t for t in TUNABLES}
