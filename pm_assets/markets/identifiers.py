"""Market and outcome identifiers across the two market generations (polymarket-api.md "Late 2026" L.1).

Dagster-free: the trades, wallets, stream and signal code import these. Every condition id stored anywhere
is the 66-character form (``0x`` + 64 lowercase hex); Gamma writes Protocol V2 condition ids with 62 hex
digits, which the CLOB, the websocket and the Data API know only with ``00`` appended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pm_assets.markets.values import shown

Generation = Literal["v1", "v2"]

_HEX = re.compile(r"[0-9a-f]+")
_DECIMAL = re.compile(r"[0-9]{1,78}")
_V2_PADDING = "00"


class IdentifierError(ValueError):
    """An upstream identifier that cannot be a condition id or an outcome id."""


def normalize_condition_id(value: str) -> str:
    """Return the 66-character lowercase form of a condition id (62-hex V2 ids get ``00`` appended).

    Raises IdentifierError for anything else, so a bad id never reaches a join.
    """
    if not isinstance(value, str):
        raise IdentifierError(f"condition id must be a string, got {type(value).__name__}")
    text = value.strip().lower()
    digits = text[2:] if text.startswith("0x") else text
    if not _HEX.fullmatch(digits or "-"):
        raise IdentifierError(f"condition id is not hexadecimal: {shown(value, 100)}")
    if len(digits) == 62:
        digits += _V2_PADDING
    if len(digits) != 64:
        raise IdentifierError(
            f"condition id must have 62 or 64 hex digits, got {len(digits)}: {shown(value, 100)}"
        )
    return "0x" + digits


def market_generation(version: str | None) -> Generation:
    """Gamma's ``version``: ``"v2"`` is Protocol V2; ``"v1"`` or absent is a CTF market."""
    if version is None or version == "" or version == "v1":
        return "v1"
    if version == "v2":
        return "v2"
    raise IdentifierError(f"unknown market version {shown(version, 40)} (expected 'v1', 'v2' or absent)")


def v2_position_id(condition_id: str, outcome_index: int) -> str:
    """Protocol V2 position id: the padded condition id read as a 256-bit number, plus the outcome index."""
    if outcome_index < 0 or outcome_index > 255:
        raise IdentifierError(f"outcome index out of range: {outcome_index}")
    return str(int(normalize_condition_id(condition_id)[2:], 16) + outcome_index)


def normalize_outcome_id(value: str | int) -> str:
    """Token / position ids are unsigned 256-bit integers kept as decimal strings, never floats."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise IdentifierError(f"outcome id must be a decimal string, got {type(value).__name__}")
    text = str(value).strip()
    # ASCII only: str.isdigit() and int() read Unicode digits, so "١٢٣" would silently become "123".
    if not _DECIMAL.fullmatch(text) or int(text) >= 2**256:
        raise IdentifierError(f"outcome id is not an unsigned 256-bit decimal: {shown(value, 100)}")
    return str(int(text))


def outcome_ids(
    version: str | None,
    clob_token_ids: Sequence[str] | None,
    position_ids: Sequence[str] | None,
) -> list[str]:
    """The market's outcome ids, chosen by generation — never by which field happens to be present.

    A CTF market that is a leg of a V2 workflow may carry ``positionIds`` too; its ids stay its
    ``clobTokenIds``.
    """
    chosen = position_ids if market_generation(version) == "v2" else clob_token_ids
    return [normalize_outcome_id(v) for v in (chosen or [])]


def position_ids_match_condition(condition_id: str, ids: Sequence[str]) -> bool:
    """True when V2 position ids follow the layout padded condition id + outcome index."""
    return [normalize_outcome_id(v) for v in ids] == [
        v2_position_id(condition_id, i) for i in range(len(ids))
    ]
