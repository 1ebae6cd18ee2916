"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

assets: list = []
asset_checks: list = []
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {}

# Market signals (arbitrage, spikes, rankings, scorecard): see market_assets.py.
from pm_assets.signals import market_assets as _market  # noqa: E402

assets += _market.assets
jobs += _market.jobs
schedules += _market.schedules

# Insider signals (labels, fresh wallets, size anomalies, clusters, risk scores): see insider_sensor.py.
from pm_assets.signals import insider_sensor as _insider  # noqa: E402

assets += _insider.ASSETS
jobs += [_insider.insider_signals_job]
