"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

from pm_sensors.ingestion.schedules import ingestion_jobs, ingestion_schedules
from pm_sensors.ingestion.trade_edge import trade_loss_repair_job, trade_loss_repair_sensor

assets: list = []
asset_checks: list = []
jobs: list = [*ingestion_jobs, trade_loss_repair_job]
schedules: list = [*ingestion_schedules]
sensors: list = [trade_loss_repair_sensor]
resources: dict = {}
