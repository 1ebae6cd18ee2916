"""Alembic environment: migrations are plain SQL (the schema is Postgres-specific by design)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pm_assets.storage.database import resolve_urls
from pm_assets.storage.settings import load_settings
from pm_assets.storage.urls import warehouse_url

# Our own version table: Dagster keeps an `alembic_version` of its own, and the two may share a database.
VERSION_TABLE = "pm_intel_schema_version"


def _url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    return warehouse_url(resolve_urls(load_settings()).warehouse)


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, version_table=VERSION_TABLE, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), hide_parameters=True)
    with engine.connect() as conn:
        context.configure(connection=conn, version_table=VERSION_TABLE, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
