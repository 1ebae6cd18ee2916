"""The market signals the live run evaluates, as plain data and functions: each one's Launchpad config and its
evaluation, in the shape of insider_signals.py.

In production the live run's periodic task (pm_sensors/live/periodic.py) walks `EVALUATORS` every minute; the
assets (market_assets.py) are the way to run the same functions at once from the UI, with a rescan or a what-if.
Each evaluation resolves the saved thresholds when it starts.
"""

from collections.abc import Callable

import dagster as dg

from pm_assets.signals import arbitrage, spikes
from pm_assets.signals.launchpad import launchpad_config

ArbitrageConfig = launchpad_config(arbitrage.SPEC, rescan=("rescan_from",))
SpikeConfig = launchpad_config(spikes.SPEC, rescan=("rescan_from",))

# (asset name, evaluate(log, warehouse, config), config class), as insider_signals.EVALUATORS.
EVALUATORS: list[tuple[str, Callable[..., dg.MaterializeResult], type[dg.Config]]] = [
    ("arbitrage_windows", arbitrage.evaluate, ArbitrageConfig),
    ("price_spikes", spikes.evaluate, SpikeConfig),
]
