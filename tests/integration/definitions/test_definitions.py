"""The one Definitions object loads, as the Dagster UI, `dagster definitions validate` and `dg check defs` load it;
Dagster habits work from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pm_assets.storage.urls import dagster_storage_url
from tests.conftest import PROJECT_DIR


def test_definitions_are_loadable():
    from pm_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_all_asset_keys()


def _bare_env() -> dict[str, str]:
    """A shell in the repository with none of the variables `pm-intel up` sets."""
    unset = ("DAGSTER_HOME", "DAGSTER_PG_URL", "DATABASE_URL", "PM_INTEL_HOME")
    return {k: v for k, v in os.environ.items() if k not in unset}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / args[0]), *args[1:]],
        cwd=PROJECT_DIR,
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=300,  # a hang bound
    )


def test_dagster_definitions_validate_passes_from_the_root_with_no_variable_set():
    result = _run("dagster", "definitions", "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_dg_check_defs_passes_from_the_root():
    result = _run("dg", "check", "defs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_dagster_dev_says_in_one_line_what_to_run():
    from pm_assets.cli.dagster_instance import DEV_LINE

    result = _run("dagster", "dev", "-p", "0")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == DEV_LINE
    assert "pm-intel up" in DEV_LINE


def test_dagster_cli_validates_the_workspace_as_up_runs_it(tmp_path, warehouse_url):
    from pm_assets.cli.dagster_instance import write_dagster_home

    env = dict(os.environ, DATABASE_URL=warehouse_url, DAGSTER_PG_URL=dagster_storage_url(warehouse_url))
    env["DAGSTER_HOME"] = str(write_dagster_home(tmp_path))
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
