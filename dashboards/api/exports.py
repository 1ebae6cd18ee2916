"""Streamed CSV and Parquet: rows come off a server-side cursor in batches and leave as bytes batch by batch,
so an export's memory is one batch, whatever its row count (bench/bench_api.py measures it).

CSV text cells go through the dashboards' formula neutraliser (dashboards.csv_cells). Parquet columns take their
Arrow type from the Postgres column type (not from the first batch's values), so every row group agrees.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql
from sqlalchemy import Engine

from dashboards.csv_cells import csv_safe

BATCH_ROWS = 5_000  # memory per export is about one batch (bench/bench_api.py)
ROW_GROUP_ROWS = 20_000  # Parquet: four batches per row group (see parquet_stream)
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}

# Postgres type oid -> Arrow type; anything else (text, json, arrays, ...) is exported as text.
_ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    700: pa.float64(),
    701: pa.float64(),
    1700: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}


_INTEGERS = {20, 21, 23}
_FLOATS = {700, 701}
_TIMES = {1082, 1114, 1184}
_TEXT = {25, 1043}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return orjson.dumps(value, default=str).decode()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _finite(value: Any) -> Any:
    return "" if isinstance(value, float) and not math.isfinite(value) else value


def _boolean(value: Any) -> Any:
    return value if value is None else ("true" if value else "false")


def _iso(value: Any) -> Any:
    return value if value is None else value.isoformat()


def _other(value: Any) -> Any:
    return csv_safe(_text(value))


def _number(value: Any) -> Any:
    return _finite(float(value)) if isinstance(value, Decimal) else value


def _csv_converter(oid: int) -> Callable[[Any], Any]:
    """How a column's values become CSV cells (csv.writer writes None as an empty cell)."""
    if oid in _INTEGERS:
        return _number
    if oid in _FLOATS or oid == 1700:
        return _finite if oid != 1700 else _number
    if oid == 16:
        return _boolean
    if oid in _TIMES:
        return _iso
    if oid in _TEXT:
        return csv_safe
    return _other


def rows_in_batches(
    engine: Engine, statement: sql.Composed, params: dict[str, Any], batch: int = BATCH_ROWS
) -> Iterator[tuple[list[tuple[str, int]], Sequence[tuple]]]:
    """(columns as (name, type oid), rows) per batch from a server-side cursor; closes it when the consumer stops."""
    with engine.connect() as conn:
        pg = conn.connection.driver_connection
        assert pg is not None
        with pg.cursor(name="pm_intel_api_export") as cur:
            cur.itersize = batch
            cur.execute(statement, params)
            columns: list[tuple[str, int]] | None = None
            while True:
                rows = cur.fetchmany(batch)
                if columns is None:
                    columns = [(d.name, d.type_code) for d in cur.description or ()]
                yield columns, rows
                if len(rows) < batch:
                    return


def csv_stream(batches: Iterator[tuple[list[tuple[str, int]], Sequence[tuple]]]) -> Iterator[bytes]:
    converters: list[Callable[[Any], Any]] | None = None
    for columns, rows in batches:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if converters is None:
            writer.writerow([csv_safe(name) for name, _oid in columns])
            converters = [_csv_converter(oid) for _name, oid in columns]
        writer.writerows([[f(v) for f, v in zip(converters, row, strict=True)] for row in rows])
        yield buffer.getvalue().encode()


class _Drain:
    """A write-only file for pyarrow that hands its bytes out as they come (tell() keeps the true offset)."""

    closed = False

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._written = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def arrow_schema(columns: list[tuple[str, int]]) -> pa.Schema:
    return pa.schema([pa.field(name, _ARROW_TYPES.get(oid, pa.string())) for name, oid in columns])


def _column(values: Sequence[Any], oid: int, kind: pa.DataType) -> pa.Array:
    # Arrow converts aware datetimes to UTC itself; text and numbers go in as they come.
    if pa.types.is_string(kind) and oid not in _TEXT:
        return pa.array([_text(v) for v in values], type=kind)
    if oid == 1700:
        return pa.array([None if v is None else float(v) for v in values], type=kind)
    return pa.array(values, type=kind)


def parquet_stream(
    batches: Iterator[tuple[list[tuple[str, int]], Sequence[tuple]]], row_group_rows: int = ROW_GROUP_ROWS
) -> Iterator[bytes]:
    """Parquet, one row group per `row_group_rows` rows: the footer lists every row group and the writer keeps
    that list until it closes, so row groups of one fetch batch each would grow memory with the row count."""
    drain = _Drain()
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def flush() -> None:
        nonlocal pending_rows
        if pending and writer is not None:
            writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=pending_rows)
            pending.clear()
            pending_rows = 0

    try:
        for columns, rows in batches:
            if writer is None:
                schema = arrow_schema(columns)
                writer = pq.ParquetWriter(pa.PythonFile(drain, mode="w"), schema, compression="zstd")
            assert schema is not None
            if rows:
                arrays = [
                    _column(values, oid, field.type)
                    for values, (_name, oid), field in zip(
                        zip(*rows, strict=True), columns, schema, strict=True
                    )
                ]
                pending.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
                pending_rows += len(rows)
            if pending_rows >= row_group_rows:
                flush()
                yield drain.take()
        flush()
    finally:
        if writer is not None:
            writer.close()
    yield drain.take()
