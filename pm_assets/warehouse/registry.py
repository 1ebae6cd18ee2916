"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_assets.warehouse.assets import dashboard_rollups, warehouse_partitions

assets: list = [warehouse_partitions, dashboard_rollups]
asset_checks: list = []
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {}
