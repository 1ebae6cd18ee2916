"""`python -m dashboards.api`: serve the API with uvicorn on one port, reading as pm_intel_reader.

The login is DASHBOARD_DATABASE_URL when given (as `pm-intel up` sets it for the dashboards), else the warehouse's
server and database with the reader role's name and no password (see dashboards/db.py and migration 0010).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from sqlalchemy import Engine

from pm_assets.storage.database import READER_ROLE, make_engine, resolve_urls, role_login_url
from pm_assets.storage.settings import load_settings

# A page is one indexed range scan; an export fetches in batches (each FETCH is its own statement).
STATEMENT_TIMEOUT_MS = 30_000


def reader_url() -> str:
    explicit = os.environ.get("DASHBOARD_DATABASE_URL")
    if explicit:
        return explicit
    settings = load_settings()
    warehouse = settings.database_url or resolve_urls(settings, start_embedded=False).warehouse
    return role_login_url(warehouse, READER_ROLE)


def reader_engine(url: str | None = None) -> Engine:
    return make_engine(
        url or reader_url(),
        role=READER_ROLE,
        read_only=True,
        pool_size=8,
        max_overflow=4,
        connect_args={"connect_timeout": 5, "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"},
    )


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    from dashboards.api.app import create_app

    parser = argparse.ArgumentParser(prog="python -m dashboards.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8502)
    args = parser.parse_args(argv)
    # proxy_headers off: the API trusts no X-Forwarded-* from whoever connects; access log without query strings
    # would need a custom logger, and tokens travel in headers, never in the URL.
    uvicorn.run(
        create_app(reader_engine()), host=args.host, port=args.port, proxy_headers=False, log_level="info"
    )
    return 0
