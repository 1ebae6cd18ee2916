"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_sensors.alerts.delivery_resource import AlertDeliveryResource

assets: list = []
asset_checks: list = []
jobs: list = []
schedules: list = []
sensors: list = []
resources: dict = {"alert_delivery": AlertDeliveryResource()}
