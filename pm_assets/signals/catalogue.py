"""Every signal's thresholds, declared once (Dagster-free, so the dashboards can validate edits).

Each signal adds one `thresholds.register(...)` block here; its `dg.Config` reads defaults through
`thresholds.default_value(signal_type, name)`. Importing this module fills the catalogue.
"""

from pm_assets.signals import thresholds
from pm_assets.signals.thresholds import Threshold

__all__ = ["thresholds", "Threshold"]
