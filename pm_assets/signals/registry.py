"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster. The signals' jobs and
schedule are in pm_sensors/signals.
"""

from pm_assets.signals.insider_assets import ASSETS as INSIDER_ASSETS
from pm_assets.signals.market_assets import assets as market_assets

assets: list = [*market_assets, *INSIDER_ASSETS]
asset_checks: list = []
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {}
