"""Resolving, creating and connecting to the two databases pm-intel uses (warehouse and Dagster storage)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine, event

from pm_assets.storage import postgres_server
from pm_assets.storage.settings import DAGSTER_DB, WAREHOUSE_DB, Settings
from pm_assets.storage.urls import libpq_url, mask_secrets, mask_url, warehouse_url, with_database, with_login

READER_ROLE = "pm_intel_reader"
EDITOR_ROLE = "pm_intel_editor"


class DatabaseUnreachable(RuntimeError):
    """Raised with the URL masked, so the message can go to a terminal or a log as it is."""


@dataclass(frozen=True)
class DatabaseUrls:
    warehouse: str  # libpq form, password included: never log it, use mask_url
    dagster: str
    embedded: bool


def resolve_urls(settings: Settings, *, start_embedded: bool = True) -> DatabaseUrls:
    """Which databases to use: DATABASE_URL if given, else the embedded server (started if needed)."""
    if settings.database_url:
        warehouse = libpq_url(settings.database_url)
        dagster = (
            libpq_url(settings.dagster_database_url)
            if settings.dagster_database_url
            else libpq_url(with_database(warehouse, DAGSTER_DB))
        )
        return DatabaseUrls(warehouse=warehouse, dagster=dagster, embedded=False)
    if not start_embedded and not postgres_server.is_running(settings.pg_data_dir):
        raise DatabaseUnreachable(
            f"no DATABASE_URL is set and the embedded PostgreSQL in {settings.pg_data_dir} is not running; "
            "start it with `pm-intel up` or `pm-intel db upgrade`"
        )
    server = postgres_server.start(settings.pg_data_dir)
    return DatabaseUrls(
        warehouse=libpq_url(with_database(server, WAREHOUSE_DB)),
        dagster=libpq_url(with_database(server, DAGSTER_DB)),
        embedded=True,
    )


def check_reachable(url: str, *, timeout_s: int = 5) -> None:
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=timeout_s) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        reason = mask_secrets(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        raise DatabaseUnreachable(f"cannot reach the database at {mask_url(url)}: {reason}") from exc


def ensure_database(url: str) -> bool:
    """Create the database named in `url` if it does not exist; True when it was created."""
    from sqlalchemy.engine import make_url

    target = make_url(url).database
    if not target:
        raise DatabaseUnreachable(f"the URL {mask_url(url)} names no database")
    maintenance = libpq_url(with_database(url, "postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (target,)).fetchone()
            if exists:
                return False
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(target)))
            return True
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DatabaseUnreachable(
            f"database {target!r} does not exist at {mask_url(url)} and this user may not create it; "
            "create it, or set DAGSTER_DATABASE_URL to a database that exists"
        ) from exc
    except psycopg.OperationalError as exc:
        reason = mask_secrets(str(exc).strip().splitlines()[0])
        raise DatabaseUnreachable(f"cannot reach the database at {mask_url(url)}: {reason}") from exc


def grant_dagster_reads(url: str) -> bool:
    """Let pm_intel_reader read Dagster's storage at `url` (freshness and runs on the dashboards).

    Dagster creates its tables later, as this same user, so default privileges cover them as they come.
    False (and the dashboards fall back to the warehouse's own timestamps) when this user may not grant.
    """
    try:
        with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as conn:
            reader = sql.Identifier(READER_ROLE)
            conn.execute(sql.SQL("grant usage on schema public to {}").format(reader))
            conn.execute(sql.SQL("grant select on all tables in schema public to {}").format(reader))
            conn.execute(
                sql.SQL("alter default privileges in schema public grant select on tables to {}").format(
                    reader
                )
            )
    except psycopg.Error:
        return False
    return True


def role_login_url(url: str, role: str) -> str:
    """The same server and database, logged in as `role` with no password (migration 0010: the embedded server
    trusts its private socket; an external one takes the DASHBOARD_* URLs with passwords instead)."""
    return libpq_url(with_login(url, role, None))


def make_engine(url: str, *, role: str | None = None, read_only: bool = False, **kwargs) -> Engine:
    """A SQLAlchemy engine on psycopg 3; with `role`, every connection runs `SET ROLE role` first.

    The dashboards log in as the role itself (migration 0010); SET ROLE is a second fence for a login that
    was only granted the role, never the only one (RESET ROLE undoes it).
    """
    # hide_parameters: an error's message never carries the bound values (a webhook URL, a password).
    engine = create_engine(warehouse_url(url), pool_pre_ping=True, hide_parameters=True, **kwargs)
    if role or read_only:

        @event.listens_for(engine, "connect")
        def _restrict(dbapi_conn, _record):  # pragma: no cover - exercised through the engine
            with dbapi_conn.cursor() as cur:
                if role:
                    cur.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
                if read_only:
                    cur.execute("set default_transaction_read_only = on")
            dbapi_conn.commit()

    return engine
