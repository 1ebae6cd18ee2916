"""What every route shares: path and query parameter types, documented error responses, and one-row reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Path, Query, Request
from psycopg.rows import dict_row
from pydantic import BeforeValidator

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import clean, engine_of, reading

CONDITION_ID = r"^0x[0-9a-fA-F]{64}$"
WALLET = r"^0x[0-9a-fA-F]{40}$"
TOKEN_ID = r"^[0-9]{1,78}$"
PLAIN_TEXT = r"^[^\x00]*$"  # Postgres text cannot hold NUL
MAX_LIMIT = 1000

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": models.Problem, "description": "a filter this listing does not have, or a bad cursor"},
    401: {"model": models.Problem, "description": "no bearer token, or one that is unknown or revoked"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": models.Problem}}
EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}, "application/vnd.apache.parquet": {}},
        "description": "the rows, streamed",
    }
}

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")]
Cursor = Annotated[str | None, Query(max_length=2000, description="`next_cursor` of the previous page")]
# RFC 3339 only: pydantic alone would also read a bare number as a Unix time, which the document does not say.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$")


def _rfc3339(value: object) -> object:
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError("give a time as RFC 3339, e.g. 2026-12-01T00:00:00Z")
    return value


Time = Annotated[datetime, BeforeValidator(_rfc3339)]
Since = Annotated[Time | None, Query(description="from this time (inclusive); RFC 3339, UTC if no offset")]
Until = Annotated[Time | None, Query(description="before this time (exclusive)")]
Format = Annotated[Literal["csv", "parquet"], Query(description="csv (formula cells neutralised) or parquet")]
ConditionId = Annotated[str, Path(pattern=CONDITION_ID, description="the market's 66-character condition id")]
WalletAddress = Annotated[str, Path(pattern=WALLET, description="a 0x address of 40 hex digits")]
WatchlistId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a watchlist's id")]  # bigint


def one_row(
    request: Request, listing: q.Listing, what: str, decorate: Callable[[Any, dict], None] | None = None
) -> dict[str, Any]:
    """The listing's single row, or 404 "no such <what>". `decorate(cursor, row)` adds related rows in the
    same read-only transaction, so they describe exactly the row returned."""
    with reading(engine_of(request)) as pg, pg.cursor(row_factory=dict_row) as cur:
        row = cur.execute(listing.statement(1), listing.params).fetchone()
        if row is None:
            raise HTTPException(404, f"no such {what}")
        if decorate is not None:
            decorate(cur, row)
    return clean(row)
