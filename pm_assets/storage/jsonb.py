"""Values for jsonb columns, serialised with orjson; what JSON lacks (datetimes, Decimals) is written as str()."""

from __future__ import annotations

import orjson
from psycopg.types.json import Jsonb


def jsonb(value: object) -> Jsonb:
    return Jsonb(value, dumps=_dumps)


def _dumps(value: object) -> str:
    return orjson.dumps(value, default=str).decode()
