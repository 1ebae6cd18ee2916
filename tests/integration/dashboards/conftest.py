"""Dashboard pages run in Streamlit's AppTest against a seeded warehouse of the test's own."""

from __future__ import annotations

import pytest
import streamlit as st

from tests.support.seed import SeedWorld, seed_world


@pytest.fixture
def world(warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> SeedWorld:
    for name in (
        "DAGSTER_PG_URL",
        "DASHBOARD_DATABASE_URL",
        "DASHBOARD_EDITOR_DATABASE_URL",
        "PM_INTEL_DASHBOARD_PASSWORD",
        "PM_INTEL_ALLOW_PRIVATE_WEBHOOKS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    # Streamlit's own traceback for an uncaught error, so a broken page fails its test loudly; the
    # production behaviour (one masked line) is tested with this unset (test_no_secret_anywhere.py).
    monkeypatch.setenv("PM_INTEL_DASHBOARD_DEBUG", "1")
    # Query caches and engines are per process; each test has its own database.
    st.cache_data.clear()
    st.cache_resource.clear()
    world = seed_world(warehouse_url)
    world.url = warehouse_url  # type: ignore[attr-defined]
    return world
