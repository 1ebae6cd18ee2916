"""A recording loaded into the indexes the replay server answers from, each query at a given clock time.

Visibility (what an upstream would have shown at clock time t):
- trades, activity rows and price points exist from their own timestamp on;
- Gamma objects, REST books and resolution rows: the newest version received at or before t;
- websocket frames are sent when the clock passes the time they were received.
"""

from __future__ import annotations

import heapq
import logging
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from pm_sim.recording import (
    WS_SOURCE,
    Recording,
    event_assets,
    frame_events,
    normalize_condition_id,
)

log = logging.getLogger(__name__)


@dataclass
class Versions:
    """Versions of one object over time (received_at ascending); `at(t)` is the newest received by t."""

    times: list[float] = field(default_factory=list)
    objs: list[Any] = field(default_factory=list)

    def add(self, t: float, obj: Any) -> None:
        self.times.append(t)
        self.objs.append(obj)

    def sort(self) -> None:
        order = sorted(range(len(self.times)), key=lambda i: self.times[i])
        self.times = [self.times[i] for i in order]
        self.objs = [self.objs[i] for i in order]

    def at(self, t: float) -> tuple[float, Any] | None:
        i = bisect_right(self.times, t)
        return None if i == 0 else (self.times[i - 1], self.objs[i - 1])


@dataclass
class Frame:
    received_at: float
    text: str
    assets: frozenset[str]
    custom_only: bool  # new_market / market_resolved / best_bid_ask: only for custom_feature_enabled sockets
    broadcast: bool  # new_market: to every custom socket, subscribed or not


CUSTOM_EVENTS = {"new_market", "market_resolved", "best_bid_ask"}


def market_tokens(m: dict[str, Any]) -> list[str]:
    """A Gamma market's outcome ids, chosen by its `version` (v2: positionIds; else clobTokenIds)."""
    raw = m.get("positionIds") if m.get("version") == "v2" else m.get("clobTokenIds")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return []
    return [str(x) for x in raw or []]


def _fill_time(row: dict[str, Any]) -> int:
    try:
        return int(row.get("timestamp") or 0)
    except (TypeError, ValueError):
        return 0


class ReplayStore:
    def __init__(self, rec: Recording):
        self.rec = rec
        self.present = rec.present()
        self.missing = rec.missing()
        self.markets: dict[str, Versions] = {}
        self.events: dict[str, Versions] = {}
        self._load_gamma()
        self._load_trades()
        self._load_activity()
        self.rest_books: dict[str, Versions] = {}
        for t, book in rec.objects("clob_books"):
            if isinstance(book, dict) and book.get("asset_id"):
                self.rest_books.setdefault(str(book["asset_id"]), Versions()).add(t, book)
        self.resolutions: dict[str, Versions] = {}
        for t, row in rec.objects("data_resolutions"):
            if isinstance(row, dict) and row.get("condition_id"):
                cid = normalize_condition_id(str(row["condition_id"]))
                self.resolutions.setdefault(cid, Versions()).add(t, row)
        self._load_prices()
        self._load_frames()
        for group in (self.markets, self.events, self.rest_books, self.resolutions, self.ws_books):
            for v in group.values():
                v.sort()
        span = rec.span()
        self.start, self.end = span if span else (0.0, 0.0)

    # ------------------------------------------------------------------------------------------ loading
    def _load_gamma(self) -> None:
        for t, m in self.rec.objects("gamma_markets"):
            if isinstance(m, dict) and m.get("id") is not None:
                self.markets.setdefault(str(m["id"]), Versions()).add(t, m)
        for t, e in self.rec.objects("gamma_events"):
            if isinstance(e, dict) and e.get("id") is not None:
                self.events.setdefault(str(e["id"]), Versions()).add(t, e)

    def _load_trades(self) -> None:
        rows = [r for _, r in self.rec.objects("data_trades") if isinstance(r, dict)]
        rows.sort(key=lambda r: -_fill_time(r))  # newest first; stable, so a second keeps upstream's order
        self.trades = rows
        self.neg_ts = [-_fill_time(r) for r in rows]
        self.by_condition: dict[str, list[int]] = {}
        self.by_user: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            self.by_condition.setdefault(normalize_condition_id(str(r.get("condition_id", ""))), []).append(i)
            self.by_user.setdefault(str(r.get("proxy_wallet", "")).lower(), []).append(i)

    def _load_activity(self) -> None:
        per_user: dict[str, dict[bytes, dict]] = {}
        for _, row in self.rec.objects("data_activity"):
            if isinstance(row, dict) and row.get("proxy_wallet"):
                # A wallet walked twice (two recorder sessions) holds the same rows twice: one copy each.
                key = orjson.dumps(row, option=orjson.OPT_SORT_KEYS)
                per_user.setdefault(str(row["proxy_wallet"]).lower(), {})[key] = row
        self.activity = {
            w: sorted(rows.values(), key=lambda r: -_fill_time(r)) for w, rows in per_user.items()
        }

    def _load_prices(self) -> None:
        points: dict[str, dict[int, Any]] = {}
        for line in self.rec.lines("clob_prices_history"):
            token = str(((line.request or {}).get("params") or {}).get("market", ""))
            hist = line.object.get("history") if isinstance(line.object, dict) else None
            for p in hist or []:
                if isinstance(p, dict) and "t" in p and token:
                    points.setdefault(token, {})[int(p["t"])] = p
        self.prices = {tok: [pts[t] for t in sorted(pts)] for tok, pts in points.items()}
        self.price_times = {tok: [int(p["t"]) for p in pts] for tok, pts in self.prices.items()}

    def _load_frames(self) -> None:
        frames: list[Frame] = []
        self.ws_books: dict[str, Versions] = {}
        for line in self.rec.lines(WS_SOURCE):
            text = line.frame or ""
            evs = frame_events(text)
            if not evs:
                continue
            assets: set[str] = set()
            kinds = set()
            for ev in evs:
                assets |= event_assets(ev)
                kinds.add(ev.get("event_type"))
                if ev.get("event_type") == "book" and ev.get("asset_id"):
                    self.ws_books.setdefault(str(ev["asset_id"]), Versions()).add(line.received_at, ev)
            frames.append(
                Frame(
                    line.received_at,
                    text,
                    frozenset(assets),
                    custom_only=bool(kinds) and kinds <= CUSTOM_EVENTS,
                    broadcast=kinds == {"new_market"},
                )
            )
        frames.sort(key=lambda f: f.received_at)
        self.frames = frames
        self.frame_times = [f.received_at for f in frames]

    # ------------------------------------------------------------------------------------------ gamma
    def visible(self, group: dict[str, Versions], t: float) -> list[dict[str, Any]]:
        out = []
        for v in group.values():
            hit = v.at(t)
            if hit is not None:
                out.append(hit[1])
        return out

    # ------------------------------------------------------------------------------------------ trades
    def trade_positions(self, t: float, conditions: list[str], user: str | None, after: int) -> Iterator[int]:
        """Positions (newest first) of trades visible at t after position `after`, for these filters."""
        start = max(bisect_left(self.neg_ts, -int(t)), after + 1)
        if conditions:
            lists = [self.by_condition.get(normalize_condition_id(c), []) for c in dict.fromkeys(conditions)]
            merged: Iterable[int] = heapq.merge(*(lst[bisect_left(lst, start) :] for lst in lists))
        elif user:
            lst = self.by_user.get(user.lower(), [])
            merged = lst[bisect_left(lst, start) :]
        else:
            merged = range(start, len(self.trades))
        wallet = user.lower() if user else None
        for i in merged:
            if wallet is None or str(self.trades[i].get("proxy_wallet", "")).lower() == wallet:
                yield i

    def activity_rows(self, user: str, t: float) -> list[dict[str, Any]]:
        rows = self.activity.get(user.lower(), [])
        return [r for r in rows if _fill_time(r) <= t]

    # ------------------------------------------------------------------------------------------ books
    def book(self, token: str, t: float) -> dict[str, Any] | None:
        """The newest REST book or websocket `book` snapshot of `token` received by t (REST shape)."""
        rest = self.rest_books.get(token)
        ws = self.ws_books.get(token)
        a = rest.at(t) if rest else None
        b = ws.at(t) if ws else None
        if b is not None and (a is None or b[0] > a[0]):
            return {k: v for k, v in b[1].items() if k != "event_type"}
        return None if a is None else a[1]

    def latest_ws_book(self, token: str, t: float) -> tuple[float, dict[str, Any]] | None:
        v = self.ws_books.get(token)
        return v.at(t) if v else None

    def price_points(self, token: str, start: int, end: int) -> list[Any]:
        times = self.price_times.get(token)
        if not times:
            return []
        return self.prices[token][bisect_left(times, start) : bisect_right(times, end)]

    def resolution(self, cid: str, t: float) -> dict[str, Any] | None:
        v = self.resolutions.get(normalize_condition_id(cid))
        hit = v.at(t) if v else None
        return None if hit is None else hit[1]

    def frames_between(self, t0: float, t1: float) -> list[Frame]:
        """Frames received in (t0, t1]."""
        return self.frames[bisect_right(self.frame_times, t0) : bisect_right(self.frame_times, t1)]

    def summary(self) -> dict[str, Any]:
        return {
            "markets": len(self.markets),
            "events": len(self.events),
            "trades": len(self.trades),
            "books_rest": sum(len(v.times) for v in self.rest_books.values()),
            "ws_frames": len(self.frames),
            "price_tokens": len(self.prices),
            "resolutions": len(self.resolutions),
            "activity_wallets": len(self.activity),
        }
