"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
The API clients are bound without a URL: each reads POLYMARKET_GAMMA_URL / POLYMARKET_CLOB_URL when a run
starts and falls back to the live host, so DATABASE_URL stays the only required variable.
"""

from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.markets.checks import universe_checks
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.gamma import GammaClient

assets: list = [events, markets_and_tokens]
asset_checks: list = [*universe_checks]
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {"gamma": GammaClient(), "clob": ClobClient()}
