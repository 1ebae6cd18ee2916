"""The `pm-intel` command as a user meets it: clear errors, passwords masked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import psycopg

from pm_assets.cli.up import stop_process_tree
from tests.waiting import wait_for

PM_INTEL = [str(Path(sys.executable).parent / "pm-intel")]


def _run(args, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DAGSTER_DATABASE_URL")}
    env.update(PM_INTEL_HOME=str(tmp_path / "home"), **env_extra)
    return subprocess.run([*PM_INTEL, *args], env=env, capture_output=True, text=True, timeout=120)


def test_unreachable_database_url_is_named_with_the_password_masked(tmp_path):
    with socket.socket() as sock:  # a loopback port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://pmuser:Sup3rSecret@127.0.0.1:{port}/pm"
    result = _run(["db", "status"], {"DATABASE_URL": url}, tmp_path)
    assert result.returncode == 2
    assert "Sup3rSecret" not in result.stderr + result.stdout
    assert f"cannot reach the database at postgresql://pmuser:***@127.0.0.1:{port}/pm" in result.stderr


def test_busy_port_is_a_clear_error(tmp_path, warehouse_url):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = _run(["up", "--dagster-port", str(port)], {"DATABASE_URL": warehouse_url}, tmp_path)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--dagster-port" in result.stderr


def test_db_status_and_url_on_a_migrated_database(tmp_path, warehouse_url):
    result = _run(["db", "status"], {"DATABASE_URL": warehouse_url}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pending:  none" in result.stdout
    url = _run(["db", "url", "--reveal"], {"DATABASE_URL": warehouse_url}, tmp_path)
    assert url.stdout.strip() == warehouse_url


def test_migration_drift_stops_upgrade_with_an_explanation(tmp_path, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("update pm_intel_schema_version set version_num = '9999_newer'")
    result = _run(["db", "upgrade"], {"DATABASE_URL": warehouse_url}, tmp_path)
    assert result.returncode == 2
    assert "migration drift" in result.stderr and "9999_newer" in result.stderr


def test_status_says_red_when_it_cannot_see_the_system(tmp_path):
    result = _run(["status", "--json"], {}, tmp_path)
    assert result.returncode != 0
    assert '"overall": "red"' in result.stdout


def test_stopping_up_stops_what_its_children_started():
    # The daemon starts a code server and it starts run workers (the stream run lives for hours): stopping
    # `pm-intel up` must not leave them running. Here a child starts a grandchild that even ignores Ctrl-C.
    grandchild = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"
    code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {grandchild!r}]); time.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        [orphan_to_be] = wait_for(lambda: psutil.Process(child.pid).children(), "the child's grandchild")
        stop_process_tree([child], timeout_s=2.0)
        assert child.poll() is not None
        _gone, alive = psutil.wait_procs([orphan_to_be], timeout=30)
        assert alive == []
    finally:
        child.kill()
