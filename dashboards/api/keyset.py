"""Opaque keyset cursors: the last row's sort key, as URL-safe base64 of JSON. A page never counts an offset."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson


class BadCursor(ValueError):
    """A cursor this API did not hand out (or one from another endpoint)."""


def encode(kind: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(orjson.dumps([kind, *plain])).decode().rstrip("=")


def decode(kind: str, cursor: str, types: tuple[type, ...]) -> list[Any]:
    """The cursor's values, each checked against `types` (datetime values come back parsed)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("cursor is not one this API handed out") from exc
    if not isinstance(data, list) or len(data) != len(types) + 1 or data[0] != kind:
        raise BadCursor("cursor belongs to another listing or is malformed")
    out: list[Any] = []
    for value, wanted in zip(data[1:], types, strict=True):
        if wanted is datetime:
            try:
                parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None:
                raise BadCursor("cursor holds a malformed time")
            out.append(parsed)
        elif wanted is int and isinstance(value, int) and not isinstance(value, bool):
            out.append(value)
        elif wanted is str and isinstance(value, str) and "\x00" not in value:
            out.append(value)
        else:
            raise BadCursor("cursor holds a value of the wrong type")
    return out
