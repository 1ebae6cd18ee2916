"""Raw payloads kept for audit: every payload that failed validation (quarantined), never dropped.

The HTTP core calls a sink synchronously; `RawPayloadBuffer` is that sink. The asset flushes it into
`raw_payloads` in the same transaction as the good rows of the batch, so a crash keeps both or neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

COLUMNS = (
    "fetched_at",
    "source",
    "endpoint",
    "request",
    "status_code",
    "body",
    "error",
    "quarantined",
    "run_id",
)
MAX_BODY_CHARS = 1_000_000  # a pathological body is truncated, never allowed to blow up the table


@dataclass
class RawPayloadBuffer:
    source: str  # "gamma", "clob", "data_api", "ws"
    run_id: str | None = None
    records: list[tuple[Any, ...]] = field(default_factory=list)

    def __call__(
        self, endpoint: str, params: Mapping[str, Any], status: int | None, raw: str, error: str
    ) -> None:
        self.add(endpoint, params, status, raw, error=error, quarantined=True)

    def add(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        status: int | None,
        raw: str,
        *,
        error: str | None = None,
        quarantined: bool = False,
    ) -> None:
        self.records.append(
            (
                datetime.now(UTC),
                self.source,
                endpoint,
                orjson.dumps(dict(params), default=str).decode(),
                status,
                raw[:MAX_BODY_CHARS].replace("\x00", ""),
                error,
                quarantined,
                self.run_id,
            )
        )

    def flush(self, conn: psycopg.Connection) -> int:
        """Write the buffered payloads (inside the caller's transaction) and empty the buffer."""
        if not self.records:
            return 0
        with (
            conn.cursor() as cur,
            cur.copy(
                "copy raw_payloads (fetched_at, source, endpoint, request, status_code, body, error, quarantined, run_id)"
                " from stdin"
            ) as copy,
        ):
            for record in self.records:
                copy.write_row(record)
        written = len(self.records)
        self.records.clear()
        return written
