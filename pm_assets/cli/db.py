"""`pm-intel db ...`: migrate, inspect and locate the warehouse."""

from __future__ import annotations

import argparse

from pm_assets.cli.errors import CliError
from pm_assets.storage import migrate, postgres_server
from pm_assets.storage.database import (
    DatabaseUrls,
    check_reachable,
    ensure_database,
    grant_dagster_reads,
    resolve_urls,
)
from pm_assets.storage.settings import load_settings
from pm_assets.storage.urls import mask_url


def prepare_databases(*, migrate_schema: bool = True) -> DatabaseUrls:
    """Resolve, reach, create and migrate the two databases; errors name the URL with its password masked."""
    settings = load_settings()
    urls = resolve_urls(settings)
    check_reachable(urls.warehouse if not urls.embedded else mask_free_maintenance(urls.warehouse))
    ensure_database(urls.warehouse)
    ensure_database(urls.dagster)
    if migrate_schema:
        state = migrate.status(urls.warehouse)
        if state.unknown:
            raise CliError(
                f"migration drift: the database at {mask_url(urls.warehouse)} is at schema revision "
                f"{state.current!r}, which this version of pm-intel does not know (head is {state.head!r}); "
                "upgrade pm-intel, or downgrade the database with the version that created it"
            )
        migrate.upgrade(urls.warehouse)
        grant_dagster_reads(urls.dagster)
    return urls


def mask_free_maintenance(url: str) -> str:
    # The embedded server's warehouse database may not exist yet; reachability is checked on `postgres`.
    from pm_assets.storage.urls import libpq_url, with_database

    return libpq_url(with_database(url, "postgres"))


def run_db(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.db_command == "stop":
        stopped = postgres_server.stop(settings.pg_data_dir)
        print(
            "stopped embedded PostgreSQL"
            if stopped
            else f"no embedded PostgreSQL running in {settings.pg_data_dir}"
        )
        return 0
    if args.db_command == "upgrade":
        urls = prepare_databases()
        print(f"warehouse at {mask_url(urls.warehouse)} is at {migrate.status(urls.warehouse).current}")
        return 0
    urls = resolve_urls(settings)
    check_reachable(mask_free_maintenance(urls.warehouse) if urls.embedded else urls.warehouse)
    if args.db_command == "downgrade":
        migrate.downgrade(urls.warehouse, args.revision)
        print(f"warehouse at {mask_url(urls.warehouse)} is at {migrate.status(urls.warehouse).current}")
        return 0
    if args.db_command == "status":
        state = migrate.status(urls.warehouse)
        print(f"database: {mask_url(urls.warehouse)} ({'embedded' if urls.embedded else 'DATABASE_URL'})")
        print(f"current:  {state.current}")
        print(f"head:     {state.head}")
        if state.unknown:
            print("drift:    the database is at a revision this code does not know")
            return 1
        print(f"pending:  {', '.join(state.pending) or 'none'}")
        return 0 if state.up_to_date else 1
    if args.db_command == "url":
        url = urls.dagster if args.dagster else urls.warehouse
        print(url if args.reveal else mask_url(url))
        return 0
    raise CliError(f"unknown db command {args.db_command!r}")
