"""Throwaway, migrated databases for benchmarks, on the embedded server or the one DATABASE_URL names."""

from __future__ import annotations

import os

import psycopg
from psycopg import sql

from pm_assets.storage import migrate
from pm_assets.storage.database import resolve_urls
from pm_assets.storage.settings import load_settings
from pm_assets.storage.urls import libpq_url, with_database


def scratch_database(purpose: str) -> tuple[str, str]:
    """(maintenance URL, URL of a fresh database `pm_intel_bench_<purpose>_<pid>` at the newest schema)."""
    server = resolve_urls(load_settings()).warehouse
    name = f"pm_intel_bench_{purpose}_{os.getpid()}"
    maintenance = libpq_url(with_database(server, "postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = libpq_url(with_database(server, name))
    migrate.upgrade(url)
    return maintenance, url


def drop_database(maintenance: str, url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
