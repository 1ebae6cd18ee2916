"""The Dagster instance `pm-intel up` runs: the repository's dagster.yaml plus Postgres storage, and the
scheduler that sends `dagster dev` users to `pm-intel up`.

The storage lives only in the written file (DAGSTER_PG_URL is a variable only `up` sets), so Dagster commands
run from the repository root read a dagster.yaml that needs nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from dagster._core.scheduler import DagsterDaemonScheduler

PROJECT_DIR = Path(__file__).resolve().parents[2]
# dagster-postgres 0.29 needs a postgresql+psycopg2 URL (storage.urls.dagster_storage_url builds it).
STORAGE = """
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL
"""
DEV_LINE = (
    "pm-intel: `dagster dev` would start Dagster alone on throwaway storage; run `pm-intel up` (or `make up`; "
    "`make demo` offline), which starts Postgres, Dagster and the dashboards together"
)


def instance_yaml(project_yaml: Path = PROJECT_DIR / "dagster.yaml") -> str:
    return project_yaml.read_text() + STORAGE


def write_dagster_home(home: Path) -> Path:
    """`home` holding the instance's dagster.yaml, rewritten from the repository's on every start."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if target.is_symlink():  # homes written by earlier versions linked the repository's file
        target.unlink()
    target.write_text(instance_yaml())
    return home


def started_by_dev_command(argv: list[str]) -> bool:
    """`dagster dev` or `dg dev` (other dagster and dg commands, e.g. `dg check defs`, are welcome as they are)."""
    return len(argv) > 1 and Path(argv[0]).name in ("dagster", "dg") and argv[1] == "dev"


class ProjectScheduler(DagsterDaemonScheduler):
    """Dagster's own daemon scheduler; built when any instance is, so under `dagster dev` without `pm-intel up`'s
    storage it stops `dagster dev` at once with one line saying what to run (its services would otherwise run
    without the warehouse and on throwaway storage)."""

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> Self:
        if started_by_dev_command(sys.argv) and not os.environ.get("DAGSTER_PG_URL"):
            raise SystemExit(DEV_LINE)
        return super().from_config_value(inst_data, config_value)
