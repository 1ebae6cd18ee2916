"""The dashboards' database engines, one per process (st.cache_resource).

Each engine logs in as its own role (migration 0010): every page reads as `pm_intel_reader` in read-only
transactions; the alerts and thresholds page writes as `pm_intel_editor`, only to alert_rules and
threshold_overrides. By default the login is the warehouse URL's server and database with the role's name
as user and no password (the embedded server trusts its private unix socket); DASHBOARD_DATABASE_URL and
DASHBOARD_EDITOR_DATABASE_URL give other logins (an external server with passwords). `SET ROLE` to the same
role stays as a second fence for a login that was merely granted it. Dagster's own storage is read as
`pm_intel_reader` too, read-only, when DAGSTER_PG_URL points at it (asset freshness, runs).
"""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy import Engine

from pm_assets.storage.database import EDITOR_ROLE, READER_ROLE, make_engine, resolve_urls, role_login_url
from pm_assets.storage.settings import load_settings


def warehouse_url() -> str:
    settings = load_settings()
    return settings.database_url or resolve_urls(settings).warehouse


def login_url(url: str, role: str) -> str:
    """The same server and database, logged in as `role` (no password: see the module doc)."""
    return role_login_url(url, role)


def reader_url() -> str:
    return os.environ.get("DASHBOARD_DATABASE_URL") or login_url(warehouse_url(), READER_ROLE)


def editor_url() -> str:
    return os.environ.get("DASHBOARD_EDITOR_DATABASE_URL") or login_url(warehouse_url(), EDITOR_ROLE)


def dagster_url() -> str | None:
    url = os.environ.get("DAGSTER_PG_URL")
    return login_url(url, READER_ROLE) if url else None


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
    return _engine(url, READER_ROLE, True) if url else None


def dagster_ui_url() -> str:
    return os.environ.get("PM_INTEL_DAGSTER_URL", "http://127.0.0.1:3000").rstrip("/")
