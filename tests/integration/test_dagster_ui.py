"""The Dagster UI's view of pm-intel, through the webserver's own GraphQL: every asset, its group and its
lineage, as a user sees them. The snapshot makes a renamed asset or group show up in review."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pm_assets.cli.dagster_instance import write_dagster_home
from pm_assets.storage.urls import dagster_storage_url
from tests import loopback

PROJECT_DIR = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("asset_graph_snapshot.json")
QUERY = "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail(f"dagster-webserver exited with {proc.returncode}")
            try:
                if loopback.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _graph(url: str) -> dict[str, dict]:
    for _ in range(120):  # the code location loads after the server answers
        body = loopback.post(f"{url}/graphql", json={"query": QUERY}, timeout=60).json()
        nodes = (body.get("data") or {}).get("assetNodes")
        if nodes:
            return {
                "/".join(n["assetKey"]["path"]): {
                    "group": n["groupName"],
                    "deps": sorted("/".join(d["path"]) for d in n["dependencyKeys"]),
                }
                for n in nodes
            }
        time.sleep(1)
    pytest.fail(f"no asset nodes from GraphQL: {body}")


def test_the_ui_shows_every_asset_in_its_group_with_its_lineage(webserver):
    graph = _graph(webserver)
    if os.environ.get("PM_INTEL_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(graph, indent=2, sort_keys=True) + "\n")
    assert graph == json.loads(SNAPSHOT.read_text()), (
        "the asset graph changed; if intended, rerun with PM_INTEL_UPDATE_SNAPSHOT=1 and review the diff"
    )
    assert "trades" in graph["trade_reconciliation"]["deps"]
    assert graph["coverage_daily"]["deps"] == ["coverage_ledger"]
