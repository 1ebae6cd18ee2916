"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_sensors.signals.schedules import signal_jobs, signal_schedules

assets: list = []
asset_checks: list = []
jobs: list = [*signal_jobs]
schedules: list = [*signal_schedules]
sensors: list = []
resources: dict = {}
