"""Writing a batch so that a row the database refuses costs that row, never the batch.

Validation refuses what it can see; the database may still refuse a row for a reason no model knew (a
constraint added later, a value a column type cannot hold). `write_isolating` writes the batch inside a
savepoint; when the refusal is the row's fault (a data or integrity error, a value psycopg cannot adapt) it
splits the batch in halves, down to the refused rows alone, hands each to `on_refused` (which keeps it as
evidence in `raw_payloads`) and writes the rest. A refusal that is not a row's fault (a lost connection, a
missing table) is raised as before: bisecting would quarantine every row of a healthy batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.storage.urls import mask_secrets

log = logging.getLogger(__name__)
R = TypeVar("R")
Row = Sequence[Any]


def is_row_fault(exc: BaseException) -> bool:
    """True when the database (or psycopg, adapting a value) refused a batch because of a value in it."""
    if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
        return True
    # Client-side adaptation ("cannot adapt type 'dict'") has no SQLSTATE; a server ProgrammingError does.
    return isinstance(exc, psycopg.ProgrammingError) and exc.sqlstate is None


def database_reason(exc: BaseException) -> str:
    """The refusal as one masked line: SQLSTATE and the first line of the message."""
    first = (str(exc).strip().splitlines() or [""])[0]
    state = getattr(exc, "sqlstate", None)
    return mask_secrets(f"{type(exc).__name__}{f' [{state}]' if state else ''}: {first}")[:500]


def write_isolating(
    conn: psycopg.Connection,
    rows: Sequence[Row],
    write: Callable[[Sequence[Row]], R],
    on_refused: Callable[[Row, BaseException], None],
) -> list[R]:
    """`write(rows)` in a savepoint; on a row's fault, bisect to the refused rows. Returns each write's result.

    Runs inside the caller's transaction (opens one if none is open); the caller commits.
    """
    if not rows:
        return []
    try:
        with _savepoint(conn):
            return [write(rows)]
    except psycopg.Error as exc:
        if conn.broken or not is_row_fault(exc):
            raise
        if len(rows) == 1:
            on_refused(rows[0], exc)
            return []
    half = len(rows) // 2
    return write_isolating(conn, rows[:half], write, on_refused) + write_isolating(
        conn, rows[half:], write, on_refused
    )


class _savepoint:
    """SAVEPOINT / RELEASE / ROLLBACK TO by hand: `conn.transaction()` on an idle connection would open and
    commit a transaction of its own, splitting the batch from the quarantine rows committed with it."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("savepoint pm_isolate")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.conn.broken:
            return
        if exc_type is None:
            self.conn.execute("release savepoint pm_isolate")
        else:
            self.conn.execute("rollback to savepoint pm_isolate")
            self.conn.execute("release savepoint pm_isolate")


def quarantine_refused(
    buffer: RawPayloadBuffer, table: str, columns: Sequence[str]
) -> Callable[[Row, BaseException], None]:
    """An `on_refused` that keeps the row in `buffer` (endpoint `write <table>`) and logs one masked line."""

    def keep(row: Row, exc: BaseException) -> None:
        reason = database_reason(exc)
        body = json.dumps(dict(zip(columns, row, strict=False)), default=repr, ensure_ascii=False)
        buffer.add(f"write {table}", {"table": table}, None, body, error=reason, quarantined=True)
        log.warning("%s: the warehouse refused one row, quarantined it and wrote the rest: %s", table, reason)

    return keep


T = TypeVar("T")
U = TypeVar("U")


def convert_each(
    items: Sequence[T], convert: Callable[[T], U], buffer: RawPayloadBuffer, endpoint: str
) -> list[U]:
    """`convert` every item; one that raises is quarantined (endpoint `<endpoint> [i]`) and skipped.

    A per-item loop catches per item: a market whose fee schedule cannot be read must not abort the crawl
    of every market after it.
    """
    out = []
    for i, item in enumerate(items):
        try:
            out.append(convert(item))
        except Exception as exc:  # noqa: BLE001 - any failure costs this item only; it is kept as evidence
            reason = mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
            buffer.add(f"{endpoint} [{i}]", {}, None, _as_json(item), error=reason, quarantined=True)
            log.warning("%s: item %d could not be converted, quarantined it: %s", endpoint, i, reason)
    return out


def _as_json(item: object) -> str:
    dump = getattr(item, "model_dump", None)
    try:
        value = dump(mode="json") if callable(dump) else item
        return json.dumps(value, default=repr, ensure_ascii=False)
    except Exception:  # noqa: BLE001 - evidence is best effort; the reason is what matters
        return repr(item)[:10_000]
