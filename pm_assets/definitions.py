"""The one Definitions object of pm-intel: every domain's assets, checks, jobs, schedules and sensors.

Each domain package has a `registry` module exposing `assets`, `asset_checks`, `jobs`, `schedules`,
`sensors` and `resources`; this module is the only place they are put together. Connection settings are EnvVars, read at launch.
"""

import dagster as dg

import pm_assets.books.registry as books
import pm_assets.coverage.registry as coverage
import pm_assets.markets.registry as markets
import pm_assets.prices.registry as prices
import pm_assets.signals.registry as signals
import pm_assets.trades.registry as trades
import pm_assets.wallets.registry as wallets
import pm_assets.warehouse.registry as warehouse
import pm_sensors.alerts.registry as alerts
import pm_sensors.coverage.registry as coverage_sensors
import pm_sensors.ingestion.registry as ingestion_sensors
import pm_sensors.live.registry as live
import pm_sensors.signals.registry as signal_schedules
import pm_sensors.stream.registry as stream
import pm_sensors.warehouse.registry as warehouse_schedules
from pm_assets.resources.warehouse import WarehouseResource

# pm_assets' domains contribute assets and checks; pm_sensors' contribute the jobs, schedules and sensors.
DOMAINS = [
    warehouse,
    markets,
    trades,
    wallets,
    books,
    prices,
    signals,
    coverage,
    ingestion_sensors,
    signal_schedules,
    coverage_sensors,
    warehouse_schedules,
    stream,
    live,
    alerts,
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
    assets=_collect("assets"),
    asset_checks=_collect("asset_checks"),
    jobs=_collect("jobs"),
    schedules=_collect("schedules"),
    sensors=_collect("sensors"),
    resources=_resources(),
)
