"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_sensors.warehouse.schedules import warehouse_partitions_schedule

assets: list = []
asset_checks: list = []
jobs: list = []
schedules: list = [warehouse_partitions_schedule]
sensors: list = []
resources: dict = {}
