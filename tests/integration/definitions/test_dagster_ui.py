"""The Dagster UI's view of pm-intel, through the webserver's own GraphQL: every asset, its group and its
lineage, as a user sees them. The snapshot makes a renamed asset or group show up in review."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import httpx
import psycopg
import pytest

from pm_assets.cli.dagster_instance import write_dagster_home
from pm_assets.storage.urls import dagster_storage_url
from tests import loopback
from tests.conftest import PROJECT_DIR
from tests.waiting import HANG_S, wait_for

SNAPSHOT = Path(__file__).with_name("asset_graph_snapshot.json")
QUERY = "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Webserver(str):
    """The UI's URL, and the DAGSTER_HOME of its instance (for a test that writes to the same instance)."""

    home: Path


@pytest.fixture
def webserver(tmp_path, warehouse_url):
    home = write_dagster_home(tmp_path / "dagster_home")
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=warehouse_url,
        DAGSTER_PG_URL=dagster_storage_url(warehouse_url),
        DAGSTER_HOME=str(home),
    )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def answering() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"dagster-webserver exited with {proc.returncode}")
            try:
                return loopback.get(f"{url}/server_info").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answering, "dagster-webserver answering", pause_s=0.5, hang_s=5 * HANG_S)
        served = Webserver(url)
        served.home = home
        yield served
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _graph(url: str) -> dict[str, dict]:
    answers: list[dict] = []

    def asset_nodes() -> list:  # the code location loads after the server answers
        answers.append(loopback.post(f"{url}/graphql", json={"query": QUERY}).json())
        return (answers[-1].get("data") or {}).get("assetNodes") or []

    nodes = wait_for(asset_nodes, "asset nodes from GraphQL", pause_s=1.0, context=lambda: answers[-1:])
    return {
        "/".join(n["assetKey"]["path"]): {
            "group": n["groupName"],
            "deps": sorted("/".join(d["path"]) for d in n["dependencyKeys"]),
        }
        for n in nodes
    }


def test_the_ui_shows_every_asset_in_its_group_with_its_lineage(webserver):
    graph = _graph(webserver)
    if os.environ.get("PM_INTEL_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(graph, indent=2, sort_keys=True) + "\n")
    assert graph == json.loads(SNAPSHOT.read_text()), (
        "the asset graph changed; if intended, rerun with PM_INTEL_UPDATE_SNAPSHOT=1 and review the diff"
    )
    assert "trades" in graph["trade_reconciliation"]["deps"]
    assert graph["coverage_daily"]["deps"] == ["coverage_ledger"]


MATERIALIZED = "{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { timestamp runId } } }"


def _tables_with_rows(url: str, keys: list[str]) -> set[str]:
    """The asset keys that name a warehouse table (an asset's key is the table it writes) holding rows."""
    with psycopg.connect(url) as conn:
        tables = {
            r[0] for r in conn.execute("select tablename from pg_tables where schemaname = current_schema()")
        }
        tables |= {
            r[0] for r in conn.execute("select relname from pg_class where relkind = 'p'")
        }  # partitioned parents
        return {
            k
            for k in keys
            if k in tables and conn.execute(f"select exists (select 1 from {k})").fetchone()[0]
        }  # noqa: S608 - names from the asset graph, checked against the catalog


def test_after_a_demo_like_run_every_asset_whose_table_has_rows_shows_a_materialization(
    webserver, warehouse_url, monkeypatch
):
    """A short `make demo`: the universe crawl as a run, then the live run's driver (woken by its timer) against
    pm_sim, writing trades, wallets, signals, book snapshots, coverage and rollups outside any run."""
    from pm_assets.markets.assets import events, markets_and_tokens
    from pm_assets.resources.clob import ClobClient
    from pm_assets.resources.data_api import DataApiClient
    from pm_assets.resources.gamma import GammaClient
    from pm_assets.resources.warehouse import WarehouseResource
    from pm_sensors.alerts.delivery import DeliverySettings
    from pm_sensors.live.driver import LiveDriver
    from pm_sim.testing import running_sim

    monkeypatch.setenv("DAGSTER_PG_URL", dagster_storage_url(warehouse_url))
    with (
        running_sim(markets=30, history_hours=1.0, trades_per_second=2.0) as sim,
        dg.DagsterInstance.from_config(str(webserver.home)) as instance,
    ):
        warehouse = WarehouseResource(database_url=warehouse_url)
        clients = {
            "warehouse": warehouse,
            "gamma": GammaClient(base_url=sim.gamma_url),
            "clob": ClobClient(base_url=sim.clob_url),
        }
        assert dg.materialize([events, markets_and_tokens], resources=clients, instance=instance).success
        driver = LiveDriver(
            warehouse,
            DataApiClient(base_url=sim.data_url, page_limit=100),
            clients["clob"],
            DeliverySettings(allow_private=True),
            instance=instance,
            run_id="demo-live-run",
            poll_interval_s=0.5,
        )
        stop = threading.Event()
        runner = threading.Thread(target=driver.run, args=(stop,), daemon=True)
        runner.start()
        try:

            def settled() -> bool:
                assert not driver.task_errors, driver.task_errors
                return driver.passes >= 2 and all(n >= 1 for n in driver.task_runs.values())

            wait_for(settled, "two live passes and one round of every periodic task", hang_s=5 * HANG_S)
        finally:
            stop.set()
            runner.join(timeout=120)
        assert driver.failures == 0 and not driver.task_errors
        runs = instance.get_runs_count()

    body = httpx.post(f"{webserver}/graphql", json={"query": MATERIALIZED}, timeout=120).json()
    shown = {"/".join(n["assetKey"]["path"]): n["assetMaterializations"] for n in body["data"]["assetNodes"]}
    with_rows = _tables_with_rows(warehouse_url, list(shown))
    assert {"trades", "wallets", "order_book_snapshots", "markets"} <= with_rows, with_rows
    missing = sorted(k for k in with_rows if not shown[k])
    assert not missing, f"tables with rows that the UI shows as never materialized: {missing}"
    assert shown["trades"][0]["runId"] == ""  # the live run's write, reported without a run of its own
    assert runs == 1  # the crawl: the live work added no run
