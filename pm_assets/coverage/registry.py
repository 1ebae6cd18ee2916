"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_assets.coverage.assets import (
    coverage_above_floor,
    coverage_daily,
    coverage_ledger,
    trade_reconciliation,
)

assets: list = [coverage_ledger, coverage_daily, trade_reconciliation]
asset_checks: list = [coverage_above_floor]
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {}
