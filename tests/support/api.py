"""The API's `api` fixture, for the contract and integration layers: the real app (FastAPI's TestClient) over a
seeded warehouse of each test's own, read as the reader."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from fastapi.testclient import TestClient

from dashboards.api import tokens
from dashboards.api.app import create_app
from dashboards.api.server import reader_engine
from pm_assets.storage.database import READER_ROLE, role_login_url
from tests.support.seed import SeedWorld, seed_world


@dataclass
class ApiWorld:
    client: TestClient
    token: str
    world: SeedWorld
    url: str  # the warehouse, as the migrating user (for checks and planting rows)
    watchlist_id: int = 0  # a seeded list with wallets on it

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params):
        return self.client.get(path, params=params, headers=self.auth)


@pytest.fixture
def api(warehouse_url: str) -> Iterator[ApiWorld]:
    world = seed_world(warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        _token_id, token = tokens.create_token(conn, "tests")
        watchlist_id = seed_watchlists(conn, world)
    engine = reader_engine(role_login_url(warehouse_url, READER_ROLE))
    with TestClient(create_app(engine)) as client:
        yield ApiWorld(client, token, world, warehouse_url, watchlist_id)
    engine.dispose()


def seed_watchlists(conn: psycopg.Connection, world: SeedWorld) -> int:
    """Three lists as the dashboards' editor writes them (the shared seed leaves watchlists to their tests):
    one of five wallets, one of two on the signal's own threshold, one empty. Returns the five-wallet list's id."""
    ids = {}
    for name, min_usdc in (("Whales", 5000.0), ("Insiders", None), ("Empty", 0.0)):
        ids[name] = conn.execute(
            "insert into watchlists (name, min_position_usdc) values (%s, %s) returning watchlist_id",
            (name, min_usdc),
        ).fetchone()[0]
    members = [
        ("Whales", w, f"whale {n}", "=cmd|' /C calc'!A0" if n == 0 else None)
        for n, w in enumerate(world.wallets[:5])
    ]
    members += [
        ("Insiders", world.fresh_wallet, "fresh", "first active hours before"),
        ("Insiders", world.wallets[6], None, None),
    ]
    for name, wallet, label, note in members:
        conn.execute(
            "insert into watchlist_wallets (watchlist_id, wallet, label, note) values (%s, %s, %s, %s)",
            (ids[name], wallet, label, note),
        )
    return ids["Whales"]
