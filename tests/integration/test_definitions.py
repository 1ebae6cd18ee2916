"""The one Definitions object loads, as the Dagster UI and `dagster definitions validate` load it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pm_assets.storage.urls import dagster_storage_url

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_definitions_are_loadable():
    from pm_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_all_asset_keys()


def test_dagster_cli_validates_the_workspace(tmp_path, warehouse_url):
    env = dict(os.environ, DATABASE_URL=warehouse_url, DAGSTER_PG_URL=dagster_storage_url(warehouse_url))
    env["DAGSTER_HOME"] = str(tmp_path)
    (tmp_path / "dagster.yaml").symlink_to(PROJECT_DIR / "dagster.yaml")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr
