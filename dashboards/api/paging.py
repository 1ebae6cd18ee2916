"""What every route shares: a reader connection, the token check, one keyset page, one streamed export."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import psycopg
from fastapi import Depends, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg.rows import dict_row
from sqlalchemy import Engine

from dashboards.api import exports, keyset
from dashboards.api import queries as q
from dashboards.api.tokens import token_is_valid

bearer = HTTPBearer(auto_error=False, description="a token from `pm-intel api token create`")


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


@contextmanager
def reading(engine: Engine) -> Iterator[psycopg.Connection]:
    """The psycopg connection under a pooled SQLAlchemy one (the pool's connect hook made it read-only)."""
    with engine.connect() as conn:
        pg = conn.connection.driver_connection
        assert pg is not None
        yield pg


def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        with reading(engine_of(request)) as pg:
            if token_is_valid(pg, credentials.credentials):
                return
    raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


def _query_params_of(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_params_of(sub)
    return names


_QUERY_NAMES: dict[
    int, frozenset[str]
] = {}  # id(route) -> its query parameters (routes live as long as the app)


def _query_names(route: APIRoute) -> frozenset[str]:
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        names = _QUERY_NAMES[id(route)] = frozenset(_query_params_of(route.dependant))
    return names


def known_query_only(request: Request) -> None:
    """An unknown query parameter is a 400, not ignored: a misspelt filter must not return everything."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_names(route))
    if unknown:
        known = ", ".join(sorted(_query_names(route))) or "none"
        raise HTTPException(400, f"unknown query parameter {', '.join(unknown)}; this route takes: {known}")


def clean(value: Any) -> Any:
    """JSON-ready: non-finite numbers become null (JSON has none), decimals floats, bytes hex."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return value


def utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def run_page(engine: Engine, listing: q.Listing, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of a listing plus the cursor of the next (one extra row tells whether there is one)."""
    if cursor:
        try:
            listing.after(keyset.decode(listing.kind, cursor, listing.key_types))
        except keyset.BadCursor as exc:
            raise HTTPException(400, str(exc)) from exc
    with reading(engine) as pg, pg.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(listing.statement(limit + 1), listing.params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    keys = [c for c, _d, _t in listing.order]
    next_cursor = keyset.encode(listing.kind, [rows[-1][c] for c in keys]) if more and rows else None
    return {"items": [clean(r) for r in rows], "next_cursor": next_cursor}


def stream_export(
    engine: Engine, listing: q.Listing, fmt: Literal["csv", "parquet"], filename: str
) -> StreamingResponse:
    batches = exports.rows_in_batches(engine, listing.statement(None), listing.params)
    body = exports.csv_stream(batches) if fmt == "csv" else exports.parquet_stream(batches)
    return StreamingResponse(
        body,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
