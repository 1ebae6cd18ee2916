"""Wallet watchlists: reading a pasted or uploaded list of addresses, and what the signal reads of the lists.

A list is CSV-shaped: one wallet a line, `address[,label[,note]]`, an optional header line naming the columns.
Every address is checked (0x + 40 hexadecimal characters) and lowercased; a line that is not a wallet, or a
wallet already given above, is reported with its line number and the reason, never dropped silently. Blank lines
carry nothing and are only counted. Dagster-free and database-free except `watched_wallets`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import psycopg

ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
HEADER_WORDS = {"address", "wallet", "proxywallet", "proxy_wallet"}
MAX_LABEL = 200
MAX_NOTE = 2000
MAX_NAME = 200


@dataclass(frozen=True)
class Entry:
    line: int
    wallet: str
    label: str | None
    note: str | None


@dataclass(frozen=True)
class Problem:
    line: int
    text: str
    reason: str


@dataclass
class ParsedList:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    blank_lines: int = 0


def normalise(address: str) -> str | None:
    """The lowercase 0x address, or None when it is not one."""
    value = address.strip().lower()
    return value if ADDRESS.match(value) else None


def address_problem(raw: str) -> str:
    value = raw.strip()
    if not value:
        return "no address before the first comma"
    if not value.lower().startswith("0x"):
        return "not an address: it must start with 0x"
    digits = value[2:]
    if len(digits) != 40:
        return f"not an address: 0x must be followed by 40 hexadecimal characters, found {len(digits)}"
    return "not an address: only hexadecimal characters (0-9, a-f) may follow 0x"


def _cell(value: str | None, limit: int) -> str | None:
    text = (value or "").strip()
    return text[:limit] if text else None


def parse_wallet_list(text: str) -> ParsedList:
    """Entries and problems of a pasted list or an uploaded CSV (line numbers as the user sees them)."""
    out = ParsedList()
    seen: dict[str, int] = {}
    header_line = _first_line(text)
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            out.blank_lines += 1
            continue
        try:
            cells = next(csv.reader(io.StringIO(raw), skipinitialspace=True))
        except csv.Error as exc:
            out.problems.append(Problem(number, raw[:200], f"not readable as CSV: {exc}"))
            continue
        first = cells[0] if cells else ""
        if number == header_line and first.strip().lower() in HEADER_WORDS:
            continue  # a header line names the columns
        wallet = normalise(first)
        if wallet is None:
            out.problems.append(Problem(number, raw[:200], address_problem(first)))
            continue
        if len(cells) > 3:
            out.problems.append(
                Problem(number, raw[:200], f"{len(cells)} columns; expected address, label, note")
            )
            continue
        if wallet in seen:
            out.problems.append(Problem(number, raw[:200], f"duplicate of line {seen[wallet]}"))
            continue
        seen[wallet] = number
        label = _cell(cells[1], MAX_LABEL) if len(cells) > 1 else None
        note = _cell(cells[2], MAX_NOTE) if len(cells) > 2 else None
        out.entries.append(Entry(number, wallet, label, note))
    return out


def _first_line(text: str) -> int:
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            return number
    return 0


def check_name(name: str) -> str:
    """A list's name, trimmed; ValueError with the reason when it cannot be one."""
    value = " ".join(name.split())
    if not value:
        raise ValueError("a watchlist needs a name")
    if len(value) > MAX_NAME:
        raise ValueError(f"a watchlist name has at most {MAX_NAME} characters")
    return value


@dataclass(frozen=True)
class Watch:
    """One wallet's watching lists (by name), its labels there, and each list's own position size (None: the
    signal's threshold)."""

    wallet: str
    lists: tuple[str, ...]
    labels: tuple[str, ...]
    list_sizes: tuple[float | None, ...]

    def min_position_usdc(self, default: float) -> float:
        """The size that fires: the smallest any of its lists sets (a list without one uses `default`)."""
        return min(default if s is None else s for s in self.list_sizes)


def watched_wallets(conn: psycopg.Connection) -> dict[str, Watch]:
    """Every watched wallet and its lists."""
    rows = conn.execute(
        """
        select w.wallet, array_agg(l.name order by l.name),
               array_remove(array_agg(w.label order by l.name), null),
               array_agg(l.min_position_usdc order by l.name)
          from watchlist_wallets w join watchlists l using (watchlist_id)
         group by w.wallet
        """
    ).fetchall()
    return {r[0]: Watch(r[0], tuple(r[1]), tuple(r[2]), tuple(r[3])) for r in rows}
