"""What a recording already holds, rebuilt from its files, so a resumed recorder appends only what is new.

Trades have no id upstream and one second can hold identical fills (polymarket-api.md L.2), so each market
keeps its newest recorded second and the multiset of fills recorded in it: a later poll appends the rows of
newer seconds, and of that boundary second only the copies beyond those already recorded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from pm_sim.recording import Recording, normalize_condition_id

FillKey = tuple[Any, ...]


def fill_key(row: dict[str, Any]) -> FillKey:
    """The fields that identify a fill (profile fields can change between polls; these cannot)."""
    return tuple(
        row.get(k)
        for k in ("transaction_hash", "token_id", "proxy_wallet", "side", "price", "size", "timestamp")
    )


def _ts(row: dict[str, Any]) -> int:
    return int(row.get("timestamp") or 0)


@dataclass
class TradeLedger:
    newest: dict[str, int] = field(default_factory=dict)
    at_newest: dict[str, Counter] = field(default_factory=dict)

    def floor(self, cid: str, history_floor: int) -> int:
        return self.newest.get(cid, history_floor)

    def note(self, cid: str, row: dict[str, Any]) -> None:
        ts = _ts(row)
        if ts > self.newest.get(cid, -1):
            self.newest[cid] = ts
            self.at_newest[cid] = Counter()
        if ts == self.newest[cid]:
            self.at_newest[cid][fill_key(row)] += 1

    def accept(self, cid: str, rows: list[dict[str, Any]], history_floor: int) -> list[dict[str, Any]]:
        """The rows of one market's walk (newest first) not recorded yet; updates the ledger."""
        boundary = self.newest.get(cid)
        seen_at_boundary: Counter = Counter()
        recorded = self.at_newest.get(cid, Counter())
        out = []
        for row in rows:
            ts = _ts(row)
            if ts < history_floor or (boundary is not None and ts < boundary):
                continue
            if boundary is not None and ts == boundary:
                key = fill_key(row)
                seen_at_boundary[key] += 1
                if seen_at_boundary[key] <= recorded[key]:
                    continue
            out.append(row)
        for row in reversed(out):  # oldest first, so `note` moves the boundary forward
            self.note(cid, row)
        return out


def _digest(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


@dataclass
class RecordedState:
    trades: TradeLedger = field(default_factory=TradeLedger)
    gamma_markets: dict[str, bytes] = field(default_factory=dict)  # id -> last recorded version
    gamma_events: dict[str, bytes] = field(default_factory=dict)
    resolutions: dict[str, bytes] = field(default_factory=dict)  # condition id -> last recorded row
    activity_walked: set[str] = field(default_factory=set)
    prices_covered: dict[str, int] = field(default_factory=dict)  # token -> endTs of the last window

    def changed(self, table: dict[str, bytes], key: str, obj: Any) -> bool:
        """Whether `obj` differs from the last version recorded under `key` (and remember it if so)."""
        d = _digest(obj)
        if table.get(key) == d:
            return False
        table[key] = d
        return True

    @classmethod
    def load(cls, rec: Recording | None) -> RecordedState:
        state = cls()
        if rec is None:
            return state
        for _, row in rec.objects("data_trades"):
            if isinstance(row, dict):
                state.trades.note(normalize_condition_id(str(row.get("condition_id", ""))), row)
        for source, table in (("gamma_markets", state.gamma_markets), ("gamma_events", state.gamma_events)):
            for _, obj in rec.objects(source):
                if isinstance(obj, dict):
                    table[str(obj.get("id"))] = _digest(obj)
        for _, row in rec.objects("data_resolutions"):
            if isinstance(row, dict):
                state.resolutions[normalize_condition_id(str(row.get("condition_id", "")))] = _digest(row)
        for _, row in rec.objects("data_activity"):
            if isinstance(row, dict) and row.get("proxy_wallet"):
                state.activity_walked.add(str(row["proxy_wallet"]).lower())
        for line in rec.lines("clob_prices_history"):
            params = (line.request or {}).get("params") or {}
            token, end = str(params.get("market", "")), params.get("endTs")
            if token and end is not None:
                state.prices_covered[token] = max(state.prices_covered.get(token, 0), int(end))
        return state
