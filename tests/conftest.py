"""Shared fixtures: a real PostgreSQL (embedded, or PM_INTEL_TEST_DATABASE_URL), one migrated template per
session, and a fresh database cloned from it for each test that writes."""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pm_assets.storage import migrate, postgres_server
from pm_assets.storage.urls import libpq_url, with_database

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

PROJECT_DIR = Path(__file__).resolve().parents[1]
SHARED_DIR = PROJECT_DIR.parent / "shared"
FIXTURES_DIR = SHARED_DIR / "fixtures"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """libpq URL of the `postgres` maintenance database of a real server."""
    external = os.environ.get("PM_INTEL_TEST_DATABASE_URL")
    if external:
        return libpq_url(with_database(external, "postgres"))
    data_dir = Path(os.environ.get("PM_INTEL_TEST_PG_DATA", PROJECT_DIR / ".pm-intel" / "test-pg"))
    return libpq_url(with_database(postgres_server.start(data_dir), "postgres"))


def _create_db(server_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("create database {} template {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return libpq_url(with_database(server_url, name))


def _drop_db(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def migrated_template(pg_server_url: str) -> Iterator[str]:
    """A database at the head revision, used as CREATE DATABASE ... TEMPLATE (cloning is ~50 ms)."""
    name = f"pm_intel_tpl_{os.getpid()}"
    url = _create_db(pg_server_url, name)
    migrate.upgrade(url)
    yield name
    _drop_db(pg_server_url, name)


@pytest.fixture
def fresh_database(pg_server_url: str) -> Iterator[str]:
    """An empty database (no schema) for migration tests."""
    name = f"pm_intel_e_{os.getpid()}_{next(_counter)}"
    yield _create_db(pg_server_url, name)
    _drop_db(pg_server_url, name)


@pytest.fixture
def warehouse_url(pg_server_url: str, migrated_template: str) -> Iterator[str]:
    """A migrated warehouse database of this test's own."""
    name = f"pm_intel_t_{os.getpid()}_{next(_counter)}"
    yield _create_db(pg_server_url, name, template=migrated_template)
    _drop_db(pg_server_url, name)


@pytest.fixture
def warehouse_env(warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL pointing at this test's warehouse, as `pm-intel up` would set it."""
    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    return warehouse_url
