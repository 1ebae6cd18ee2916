"""Decoding upstream JSON so that one bad number costs its row, not its page or frame.

orjson (the fast path) refuses a whole document for one non-finite literal (`NaN`, `Infinity`, `1e400`);
the row boundaries are then unknown and every good row beside it would be lost. The standard library reads
those literals (as nan / inf), so a document orjson refuses is read again with it, and per-row validation
refuses the rows that carry them. A document neither can read (truncated, not JSON) stays an error.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads_upstream_json(raw: str | bytes) -> Any:
    """Parse `raw`; raises orjson.JSONDecodeError (a ValueError) when it is not JSON at all."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise exc from None
