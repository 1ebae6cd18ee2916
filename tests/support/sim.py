"""One pm_sim per test module (`sim`, `markets`, `ws_frames` fixtures, shared by tests/contract/sim/ and
tests/integration/sim/ through their conftest.py) and helpers to pick markets and read the market channel."""

from __future__ import annotations

import json

import pytest

from pm_sim.testing import sim_factory
from tests import loopback
from tests.waiting import wait_for

sim = sim_factory(scope="module", seed=7, markets=80, history_hours=2.0, trades_per_second=3.0)


@pytest.fixture(scope="module")
def markets(sim) -> list[dict]:
    return loopback.get(sim.admin_url + "/markets", params={"list": 1}).json()["list"]


def pick(markets: list[dict], **want) -> dict:
    for m in markets:
        if all(m.get(k) == v for k, v in want.items()):
            return m
    raise LookupError(want)


def ws_session(sim, assets: list[str], custom: bool = True):
    from websockets.sync.client import connect

    ws = connect(sim.ws_url, max_size=None)
    ws.send(
        json.dumps(
            {"assets_ids": assets, "type": "market", "initial_dump": True, "custom_feature_enabled": custom}
        )
    )
    return ws


def wait_synced(sim, target: float) -> None:
    """Wait until every ws connection has streamed up to sim time `target` (only a hang fails it)."""

    def synced() -> bool:
        conns = loopback.get(sim.admin_url + "/state").json()["ws_connections"]
        return bool(conns) and all(c["synced_to"] >= target for c in conns)

    wait_for(synced, f"every ws connection streamed up to sim time {target}", pause_s=0.01)


def drain(ws, quiet: float = 0.15) -> list:
    out = []
    while True:
        try:
            msg = ws.recv(timeout=quiet)
        except TimeoutError:
            return out
        out.append(msg if msg == "PONG" else json.loads(msg))


@pytest.fixture(scope="module")
def ws_frames(sim, markets):
    live = [m for m in markets if m["open"] and m["has_book"]][:25]
    assets = [t for m in live for t in m["token_ids"]]
    ws = ws_session(sim, assets)
    first = json.loads(ws.recv(timeout=10))
    others = []
    now = loopback.get(sim.admin_url + "/state").json()["now"]
    for _ in range(6):
        now = sim.advance(20)["now"]
        wait_synced(sim, now)
        others += [o for o in drain(ws) if isinstance(o, dict)]
    ws.close()
    books = list(first) + [o for o in others if o.get("event_type") == "book"]
    return books, others
