"""API tests: the real app (FastAPI's TestClient) over a seeded warehouse of each test's own, read as the reader."""

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
from tests.dashboards.seed import SeedWorld, seed_world


@dataclass
class ApiWorld:
    client: TestClient
    token: str
    world: SeedWorld
    url: str  # the warehouse, as the migrating user (for checks and planting rows)

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
    engine = reader_engine(role_login_url(warehouse_url, READER_ROLE))
    with TestClient(create_app(engine)) as client:
        yield ApiWorld(client, token, world, warehouse_url)
    engine.dispose()
