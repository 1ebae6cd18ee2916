"""Runtime settings read from the environment, once, at the edges (CLI, resources, dashboards)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

WAREHOUSE_DB = "pm_intel"
DAGSTER_DB = "pm_intel_dagster"


@dataclass(frozen=True)
class Settings:
    """Where pm-intel keeps its state and which Postgres it talks to.

    `database_url` is None when no DATABASE_URL is given: the embedded server in `pg_data_dir` is used.
    """

    home: Path
    pg_data_dir: Path
    database_url: str | None
    dagster_database_url: str | None
    dashboard_database_url: str | None
    editor_database_url: str | None

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    home = Path(env.get("PM_INTEL_HOME", ".pm-intel")).expanduser().absolute()
    pg_data = Path(env.get("PM_INTEL_PG_DATA", str(home / "pg"))).expanduser().absolute()
    return Settings(
        home=home,
        pg_data_dir=pg_data,
        database_url=env.get("DATABASE_URL") or None,
        dagster_database_url=env.get("DAGSTER_DATABASE_URL") or None,
        dashboard_database_url=env.get("DASHBOARD_DATABASE_URL") or None,
        editor_database_url=env.get("DASHBOARD_EDITOR_DATABASE_URL") or None,
    )
