"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
`market_resolutions` is registered here because it is read from the Data API by this workstream; its group
is `markets`.
"""

from pm_assets.markets.resolutions import market_resolutions
from pm_assets.resources.data_api import DataApiClient
from pm_assets.trades.assets import trades
from pm_assets.trades.checks import trade_checks

assets: list = [trades, market_resolutions]
asset_checks: list = [*trade_checks]
jobs: list = []
schedules: list = []
sensors: list = []
# base_url unset: POLYMARKET_DATA_URL if set at run time, else the public Data API.
resources: dict = {"data_api": DataApiClient()}
