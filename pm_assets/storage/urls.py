"""URL handling: the one place secrets are masked, and picking Postgres drivers.

Masking: `mask_secrets` is the one function every log line, error message and metadata value goes through.
It knows every form a secret takes here: a password in a URL's user part (any scheme), `password=` /
`sslpassword=` in a URL's query or in a key/value DSN (`host=db password=...`), and the path and query of
an http(s)/ws(s) URL (Slack and Discord put the webhook token there), which are reduced to scheme and host.
`mask_url` and `mask_webhook_url` render one known URL through the same rules.

Drivers: Dagster's storage needs psycopg2 (dagster-postgres 0.29 emits `%(id)s` parameters that psycopg 3
rejects), the warehouse uses psycopg 3; both are derived from the one URL the user gives.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url

# Any scheme://... token in free text, up to whitespace or a quote/bracket that ends it in messages; where a
# bracket or quote comes right after the scheme or inside the path, through to the next whitespace instead
# (over-masking a closing quote is harmless, a path token shown after a '<' is not).
_URL_TOKEN = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^\s'\"<>`]++(?![<>`])|\S+)")
# user:password@ in a URL: the password runs to the last '@' of the token (unencoded '@' in passwords).
_USERINFO_PASSWORD = re.compile(
    r"^(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>\S*)(?P<tail>@[^@\s]*)$"
)
# password=... as a query parameter or a libpq key/value pair (quoted values may hold spaces).
_PASSWORD_PAIR = re.compile(
    r"(?P<key>\b(?:ssl)?password\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|\"(?:[^\"\\]|\\.)*\"?|[^\s&;,)]*)",
    re.IGNORECASE,
)
_WEB_SCHEMES = ("http", "https", "ws", "wss")
MASK = "***"


def mask_secrets(text: str | None) -> str:
    """`text` with every secret in it masked (see the module doc); safe for logs, errors and metadata."""
    if not text:
        return text or ""
    masked = _URL_TOKEN.sub(lambda m: _mask_url_token(m.group(0)), str(text))
    return _PASSWORD_PAIR.sub(lambda m: f"{m['key']}{MASK}" if m["value"] else m[0], masked)


def mask_url(url: str | URL | None) -> str:
    """A database URL with its password masked (the server and database stay readable)."""
    if url is None:
        return "<unset>"
    return mask_secrets(url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url))


def mask_webhook_url(url: str | None) -> str:
    """Scheme and host (and port) only: `https://hooks.slack.com/***`. Path, query and user are secrets."""
    if not url:
        return "<unset>"
    return _mask_web_url(str(url).strip()) or "<invalid webhook URL>"


def _mask_url_token(token: str) -> str:
    scheme = token.split(":", 1)[0].lower()
    if scheme in _WEB_SCHEMES:
        return _mask_web_url(token) or f"{scheme}://{MASK}"
    match = _USERINFO_PASSWORD.match(token)
    if match and match["pw"]:
        return f"{match['head']}{MASK}{match['tail']}"
    return token


def _mask_web_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not host or any(ch.isspace() or ord(ch) < 32 or ch == "\x7f" for ch in host):
        return None
    if len(host) > 253:  # longer than any DNS name: a hostile URL, not worth a kilobyte of log
        host = host[:40] + "…"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    hidden = bool(parts.path.strip("/") or parts.query or parts.fragment or parts.username or parts.password)
    return f"{parts.scheme.lower()}://{netloc}/{MASK if hidden else ''}"


def with_driver(url: str | URL, driver: str) -> URL:
    """The same server and database, spoken to with `driver` ("psycopg" or "psycopg2")."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername=f"postgresql+{driver}")


def with_database(url: str | URL, database: str) -> URL:
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(database=database)


def with_login(url: str | URL, username: str, password: str | None) -> URL:
    """The same server and database, logged in as `username` with `password` (None: no password at all;
    URL.set would keep the old one)."""
    parsed = make_url(url) if isinstance(url, str) else url
    return URL.create(
        parsed.drivername,
        username=username,
        password=password,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )


def warehouse_url(url: str | URL) -> str:
    return with_driver(url, "psycopg").render_as_string(hide_password=False)


def dagster_storage_url(url: str | URL) -> str:
    return with_driver(url, "psycopg2").render_as_string(hide_password=False)


def libpq_url(url: str | URL) -> str:
    """A plain `postgresql://` URL for psycopg.connect / psql."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)
