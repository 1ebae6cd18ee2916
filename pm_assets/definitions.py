"""The one Definitions object of pm-intel: every domain's assets, checks, jobs, schedules and sensors.

Each domain package exposes `assets`, `asset_checks`, `jobs`, `schedules`, `sensors` and `resources`;
this module is the only place they are put together. Connection settings are EnvVars, read at launch.
"""

import dagster as dg

import pm_sensors.alerts
import pm_sensors.ingestion
import pm_sensors.stream
from pm_assets import books, coverage, markets, prices, signals, trades, wallets
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.warehouse_maintenance import warehouse_partitions, warehouse_partitions_schedule

DOMAINS = [
    markets, trades, wallets, books, prices, signals, coverage,
    pm_sensors.ingestion, pm_sensors.stream, pm_sensors.alerts,
]


def _collect(name: str) -> list:
    return [item for domain in DOMAINS for item in getattr(domain, name)]


def _resources() -> dict:
    merged: dict = {"warehouse": WarehouseResource(database_url=dg.EnvVar("DATABASE_URL"))}
    for domain in DOMAINS:
        overlap = merged.keys() & domain.resources.keys()
        assert not overlap, f"resource keys defined twice: {overlap}"
        merged.update(domain.resources)
    return merged


defs = dg.Definitions(
    assets=[warehouse_partitions, *_collect("assets")],
    asset_checks=_collect("asset_checks"),
    jobs=_collect("jobs"),
    schedules=[warehouse_partitions_schedule, *_collect("schedules")],
    sensors=_collect("sensors"),
    resources=_resources(),
)
