"""Postgres URL handling: masking secrets and picking drivers.

Dagster's storage needs psycopg2 (dagster-postgres 0.29 emits `%(id)s` parameters that psycopg 3
rejects), the warehouse uses psycopg 3; both are derived from the one URL the user gives.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url

_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)")


def mask_url(url: str | URL | None) -> str:
    """The URL with its password replaced by ***, safe for logs and error messages."""
    if url is None:
        return "<unset>"
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    return _PASSWORD_IN_URL.sub(lambda m: f"{m['head']}***{m['tail']}" if m["pw"] else m[0], text)


def mask_secrets(text: str) -> str:
    """Mask every credential-bearing URL inside free text (exception messages, logs)."""
    return _PASSWORD_IN_URL.sub(lambda m: f"{m['head']}***{m['tail']}" if m["pw"] else m[0], text)


def with_driver(url: str | URL, driver: str) -> URL:
    """The same server and database, spoken to with `driver` ("psycopg" or "psycopg2")."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername=f"postgresql+{driver}")


def with_database(url: str | URL, database: str) -> URL:
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(database=database)


def warehouse_url(url: str | URL) -> str:
    return with_driver(url, "psycopg").render_as_string(hide_password=False)


def dagster_storage_url(url: str | URL) -> str:
    return with_driver(url, "psycopg2").render_as_string(hide_password=False)


def libpq_url(url: str | URL) -> str:
    """A plain `postgresql://` URL for psycopg.connect / psql."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)
