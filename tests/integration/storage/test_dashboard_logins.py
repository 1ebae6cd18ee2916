"""The dashboards log in as their own roles: the reader cannot write, and RESET ROLE gains it nothing."""

from __future__ import annotations

import psycopg
import pytest

from dashboards import db
from pm_assets.storage.database import EDITOR_ROLE, READER_ROLE


def _login(url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(db.login_url(url, role), autocommit=True)


def test_the_dashboards_log_in_as_their_roles_not_as_the_migrating_user(warehouse_env):
    st_cache_clear()
    with db.reader().connect() as conn:
        users = conn.exec_driver_sql("select session_user, current_user").one()
    assert tuple(users) == (READER_ROLE, READER_ROLE)
    with db.editor().connect() as conn:
        assert conn.exec_driver_sql("select session_user").scalar() == EDITOR_ROLE


def test_the_reader_login_cannot_write_nor_reset_into_more_privilege(warehouse_url):
    with _login(warehouse_url, READER_ROLE) as conn:
        assert conn.execute("select count(*) from markets").fetchone() is not None
        conn.execute("reset role")
        assert conn.execute("select current_user").fetchone()[0] == READER_ROLE
        for statement in (
            "insert into alert_rules (name, signal_type, destination_kind, webhook_url) "
            "values ('x', 'fresh_wallet', 'json', 'https://example.com/x')",
            "update markets set question = 'x'",
            "select webhook_url from alert_rules",
            "set role postgres",
            "set role pm_intel_editor",
            "create table sneaky (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        attributes = conn.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = current_user"
        ).fetchone()
        assert attributes == (False, False, False, False)


def test_the_editor_login_writes_only_rules_and_overrides(warehouse_url):
    with _login(warehouse_url, EDITOR_ROLE) as conn:
        conn.execute("reset role")
        conn.execute(
            "insert into alert_rules (name, signal_type, destination_kind, webhook_url) "
            "values ('x', 'fresh_wallet', 'json', 'https://example.com/x')"
        )
        for statement in ("update markets set question = 'x'", "delete from trades", "set role postgres"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def st_cache_clear() -> None:
    import streamlit as st

    st.cache_resource.clear()
