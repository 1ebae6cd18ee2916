"""Dashboard tests run the real app (AppTest) against a seeded warehouse of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboards.seed import SeedWorld, seed_world

APP = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"


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


def open_page(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Everything a person reads on the page (markdown, captions, headers, alerts), one string."""
    parts = []
    for kind in (
        "markdown",
        "caption",
        "title",
        "header",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def widget(at: AppTest, kind: str, label: str):
    """The widget of this kind whose label starts with `label`."""
    for element in getattr(at, kind):
        if str(element.label).startswith(label):
            return element
    raise AssertionError(f"no {kind} labelled {label!r}: {[e.label for e in getattr(at, kind)]}")


def frame_with(at: AppTest, column: str):
    """The first dataframe on the page that has `column`."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no dataframe with column {column!r}")
