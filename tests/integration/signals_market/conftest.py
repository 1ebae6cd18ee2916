"""Market signal fixtures: a hand-made warehouse world of the test's own."""

from __future__ import annotations

import pytest

from tests.support.market import World


@pytest.fixture
def world(warehouse_url: str):
    w = World(warehouse_url)
    yield w
    w.conn.close()
