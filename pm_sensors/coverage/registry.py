"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_sensors.coverage.deadman_sensor import deadman_sensor

assets: list = []
asset_checks: list = []
jobs: list = []
schedules: list = []
sensors: list = [deadman_sensor]
resources: dict = {}
