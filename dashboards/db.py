"""The dashboards' database engines, one per process (st.cache_resource).

The reader runs every page with `SET ROLE pm_intel_reader` and read-only transactions; the editor
(`pm_intel_editor`) is used only by the alerts and thresholds page. Dagster's own storage is read, read-only,
when DAGSTER_PG_URL points at it (asset freshness, runs).
"""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy import Engine

from pm_assets.storage.database import EDITOR_ROLE, READER_ROLE, make_engine, resolve_urls
from pm_assets.storage.settings import load_settings


def warehouse_url() -> str:
    settings = load_settings()
    return settings.database_url or resolve_urls(settings).warehouse


def reader_url() -> str:
    return os.environ.get("DASHBOARD_DATABASE_URL") or warehouse_url()


def editor_url() -> str:
    return os.environ.get("DASHBOARD_EDITOR_DATABASE_URL") or warehouse_url()


def dagster_url() -> str | None:
    return os.environ.get("DAGSTER_PG_URL") or None


@st.cache_resource(show_spinner=False)
def _engine(url: str, role: str | None, read_only: bool) -> Engine:
    return make_engine(
        url, role=role, read_only=read_only, pool_size=4, max_overflow=2, connect_args={"connect_timeout": 5}
    )


def reader() -> Engine:
    return _engine(reader_url(), READER_ROLE, True)


def editor() -> Engine:
    """Writes alert rules and threshold overrides; nothing else may use it."""
    return _engine(editor_url(), EDITOR_ROLE, False)


def dagster() -> Engine | None:
    url = dagster_url()
    return _engine(url, None, True) if url else None


def dagster_ui_url() -> str:
    return os.environ.get("PM_INTEL_DAGSTER_URL", "http://127.0.0.1:3000").rstrip("/")
