"""Row-by-row validation of an upstream page: a bad row is quarantined alone, its neighbours go on.

A page (a Data API `data` array, a Gamma keyset list, a `POST /books` answer, a price history) is parsed
loosely first (the envelope), then each row is validated on its own. A row that fails is handed to the
session's quarantine sink with its endpoint (`GET /v2/trades data[3]`) and the failing field
(`price: must be in [0, 1], got '1.5'`), counted in `RequestStats.quarantined`, and the page goes on with the
rows that passed. One log line per page says how many rows were quarantined and why (masked, bounded).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pydantic

from pm_assets.resources.http import PolymarketHttp, validation_message
from pm_assets.storage.urls import mask_secrets

log = logging.getLogger(__name__)
T = TypeVar("T")
_REASON_CHARS = 300
_REASONS_LOGGED = 3


@dataclass(frozen=True)
class RejectedRow:
    """A row that failed validation: where it stood in its page, why, and what to quarantine."""

    index: int  # position in the page as served
    good_before: int  # how many valid rows of the page came before it (where it would have been)
    error: str  # masked; names the field
    endpoint: str  # "GET /v2/trades data[3]"
    item: Any = field(repr=False, default=None)  # the row as served
    params: Mapping[str, Any] = field(default_factory=dict, repr=False)
    status: int | None = None
    timestamp: int | None = None  # epoch seconds, when the row's own `timestamp` is a plausible number


@dataclass
class ValidatedRows(Generic[T]):
    rows: list[T] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def served(self) -> int:
        return len(self.rows) + len(self.rejected)


def log_safe(text: str, limit: int = _REASON_CHARS) -> str:
    """Masked (credential-bearing URLs), one line (control characters escaped), bounded: fit for a log."""
    masked = mask_secrets(text)
    one_line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in masked[: limit * 2])
    return one_line if len(one_line) <= limit else one_line[:limit] + "…"


def row_error(exc: BaseException) -> str:
    """The failing field(s) and why, as one masked line."""
    if isinstance(exc, pydantic.ValidationError):
        return log_safe(validation_message(exc))
    return log_safe(f"<row>: {type(exc).__name__}: {exc}")


def _raw_text(item: Any) -> str:
    # The standard library, not orjson: it writes NaN, Infinity and integers past 64 bits as they came,
    # which is what the evidence must show.
    try:
        return json.dumps(item, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        return f"<a {type(item).__name__} that cannot be written back as JSON>"


def _readable_timestamp(item: Any) -> int | None:
    value = item.get("timestamp") if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    seconds = int(text)
    return seconds if 1_577_836_800 <= seconds < 4_102_444_800 else None


def quarantine_rejected(
    http: PolymarketHttp, page_endpoint: str, rejected: Sequence[RejectedRow], served: int
) -> None:
    """Keep each bad row as evidence (the session's quarantine sink) and say so in one log line."""
    for row in rejected:
        http.stats.quarantined += 1
        if http.quarantine is not None:
            http.quarantine(row.endpoint, dict(row.params), row.status, _raw_text(row.item), row.error)
    if rejected:
        reasons = "; ".join(f"[{r.index}] {r.error}" for r in rejected[:_REASONS_LOGGED])
        more = f" (+{len(rejected) - _REASONS_LOGGED} more)" if len(rejected) > _REASONS_LOGGED else ""
        log.warning(
            "%s: quarantined %d bad row(s) of %d served, the others kept: %s%s",
            page_endpoint,
            len(rejected),
            served,
            reasons,
            more,
        )


def validate_rows(
    http: PolymarketHttp,
    endpoint: str,
    adapter: pydantic.TypeAdapter[T],
    items: Sequence[Any],
    *,
    label: str,
    params: Mapping[str, Any] | None = None,
    status: int | None = None,
    defer_quarantine: bool = False,
) -> ValidatedRows[T]:
    """Validate each item of a page; each bad one is quarantined (endpoint `"<endpoint> <label>[i]"`).

    With `defer_quarantine` the caller quarantines (`quarantine_rejected`) only the rejected rows it is
    responsible for: the live edge re-reads its newest page every few seconds, and a bad row there must be
    kept once, not once a poll.
    """
    out: ValidatedRows[T] = ValidatedRows()
    for i, item in enumerate(items):
        try:
            out.rows.append(adapter.validate_python(item))
            continue
        # A validator that lets a non-validation error through must cost its row only, never the page.
        except (
            pydantic.ValidationError,
            ValueError,
            TypeError,
            ArithmeticError,
            OSError,
            RecursionError,
        ) as exc:
            error = row_error(exc)
        out.rejected.append(
            RejectedRow(
                index=i,
                good_before=len(out.rows),
                error=error,
                endpoint=f"{endpoint} {label}[{i}]",
                item=item,
                params=dict(params or {}),
                status=status,
                timestamp=_readable_timestamp(item),
            )
        )
    if not defer_quarantine:
        quarantine_rejected(http, endpoint, out.rejected, out.served)
    return out
