"""The embedded server: idempotent start, clean stop, recovery of a data folder left by a killed server."""

from __future__ import annotations

import os
import signal
import time

import psycopg

from pm_assets.storage import postgres_server
from pm_assets.storage.urls import libpq_url


def _pid(data_dir) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def test_start_is_idempotent_stop_is_clean_and_a_killed_server_recovers(tmp_path):
    data_dir = tmp_path / "pg"
    url = postgres_server.start(data_dir)
    try:
        first_pid = _pid(data_dir)
        assert postgres_server.start(data_dir) == url
        assert _pid(data_dir) == first_pid
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("create table kept (x int)")
            conn.execute("insert into kept values (42)")

        assert postgres_server.stop(data_dir)
        assert not postgres_server.is_running(data_dir)
        assert not postgres_server.stop(data_dir)

        url = postgres_server.start(data_dir)
        os.kill(_pid(data_dir), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while postgres_server.is_running(data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (data_dir / "postmaster.pid").exists(), "a killed server leaves its lock file behind"

        url = postgres_server.start(data_dir)
        with psycopg.connect(libpq_url(url)) as conn:
            assert conn.execute("select x from kept").fetchone() == (42,)
    finally:
        postgres_server.stop(data_dir)
