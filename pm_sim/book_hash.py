"""The documented order-book hash rule (polymarket-api.md §2.1, late-2026 L.1).

SHA-1 of compact JSON of the 10-field summary, `hash` blanked, in a fixed key order; v2 books
append `version` last. WS books hash the REST summary (with min_order_size/neg_risk) too.
"""

from __future__ import annotations

import hashlib
import json

_KEYS = (
    "market",
    "asset_id",
    "timestamp",
    "hash",
    "bids",
    "asks",
    "min_order_size",
    "tick_size",
    "neg_risk",
    "last_trade_price",
)


def book_hash(book: dict, min_order_size: str | None = None, neg_risk: bool | None = None) -> str:
    summary = {}
    for k in _KEYS:
        if k == "hash":
            summary[k] = ""
        elif k == "min_order_size" and min_order_size is not None:
            summary[k] = min_order_size
        elif k == "neg_risk" and neg_risk is not None:
            summary[k] = neg_risk
        else:
            summary[k] = book[k]
    if "version" in book:
        summary["version"] = book["version"]
    # json.dumps matches the server's escaping (ensure_ascii) and separators.
    return hashlib.sha1(json.dumps(summary, separators=(",", ":")).encode()).hexdigest()
