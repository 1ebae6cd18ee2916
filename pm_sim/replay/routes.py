"""Gamma, CLOB REST and Data API v2 answered from a recording at the replay clock, in pm_sim's URL layout.

Same shapes, filters, pagination and error bodies as pm_sim (polymarket-api.md); what the recording lacks
answers as an empty upstream would (empty `data`, `{"history": []}`, 404 for a book never seen).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import Route

from pm_sim.clock import Clock
from pm_sim.recording import normalize_condition_id
from pm_sim.replay.store import ReplayStore, market_tokens
from pm_sim.responses import clob_error, data_error, gamma_error, js, qbool, qlist, v2_error

CID = re.compile(r"^0x[0-9a-fA-F]{64}$")
ORDER_FIELDS = {
    "volume24hr",
    "volumeNum",
    "liquidityNum",
    "startDate",
    "endDate",
    "createdAt",
    "id",
    "volume",
    "liquidity",
    "closedTime",
    "competitive",
    "volume1wk",
    "volume1mo",
}


class Bad(Exception):
    def __init__(self, msg: str, param: str = "query", status: int = 400):
        super().__init__(msg)
        self.msg, self.param, self.status = msg, param, status


def _cursor(kind: str, pos: int, limit: int) -> str:
    raw = orjson.dumps({"data": {"type": kind, "params": {"p": pos, "l": limit}}, "sig": "replay"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(kind: str, cur: str) -> tuple[int, int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cur + "=" * (-len(cur) % 4)))["data"]
        if data["type"] != kind:
            raise ValueError(kind)
        return int(data["params"]["p"]), int(data["params"]["l"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise Bad("invalid cursor", "cursor") from exc


def _env(data: Any, limit: int, nxt: str | None) -> dict[str, Any]:
    return {
        "data": data,
        "pagination": {"limit": limit, "offset": 0, "has_more": nxt is not None, "next_cursor": nxt},
    }


# ---------------------------------------------------------------------------------------------- Gamma
def _sort_value(o: dict[str, Any], f: str) -> Any:
    v = o.get(f)
    if f in ("startDate", "endDate", "createdAt", "closedTime"):
        return str(v or "")
    try:
        return float(v or 0)
    except (TypeError, ValueError):
        return 0.0


def _ordered(rows: list[dict[str, Any]], qp: Any, default_asc: bool) -> list[dict[str, Any]]:
    order = qp.get("order")
    if not order:
        return rows
    fields = [f.strip() for f in order.split(",") if f.strip()]
    if any(f not in ORDER_FIELDS for f in fields):
        raise Bad("order fields are not valid", status=422)
    asc = qbool(qp.get("ascending"), default_asc)
    for f in reversed(fields):
        rows.sort(key=lambda o, f=f: _sort_value(o, f), reverse=not asc)
    return rows


def _generation(obj: dict[str, Any]) -> str:
    return "v2" if obj.get("version") == "v2" else "v1"


def _version_ok(generations: set[str], qp: Any) -> bool:
    want = set(qlist(qp, "version")) or {"v1"}
    if "both" in want or {"v1", "v2"} <= want:
        return True
    return bool(generations & want)


def filter_markets(store: ReplayStore, qp: Any, t: float) -> list[dict[str, Any]]:
    ids, slugs = set(qlist(qp, "id")), set(qlist(qp, "slug"))
    cids = {normalize_condition_id(c) for c in qlist(qp, "condition_ids")}
    toks = set(qlist(qp, "clob_token_ids"))
    closed = qbool(qp.get("closed"), False)
    out = []
    for m in store.visible(store.markets, t):
        if bool(m.get("closed", False)) != closed or not _version_ok({_generation(m)}, qp):
            continue
        if ids and str(m.get("id")) not in ids or slugs and m.get("slug") not in slugs:
            continue
        if cids and normalize_condition_id(str(m.get("conditionId", ""))) not in cids:
            continue
        if toks and not toks.intersection(market_tokens(m)):
            continue
        out.append(m)
    return out


def filter_events(store: ReplayStore, qp: Any, t: float) -> list[dict[str, Any]]:
    ids, slugs = set(qlist(qp, "id")), set(qlist(qp, "slug"))
    closed = qbool(qp.get("closed"), False)
    out = []
    for e in store.visible(store.events, t):
        gens = {_generation(m) for m in e.get("markets") or [] if isinstance(m, dict)} or {"v1"}
        if bool(e.get("closed", False)) != closed or not _version_ok(gens, qp):
            continue
        if ids and str(e.get("id")) not in ids or slugs and e.get("slug") not in slugs:
            continue
        out.append(e)
    return out


def gamma_routes(store: ReplayStore, clock: Clock) -> list[Route]:
    def guarded(fn: Callable) -> Callable:
        async def handler(request: Request):
            try:
                return await fn(request)
            except Bad as exc:
                return gamma_error(exc.status if exc.status != 400 else 422, "validation error", exc.msg)

        return handler

    def _limit(qp: Any, default: int, mx: int) -> int:
        try:
            return max(0, min(int(qp.get("limit", default)), mx))
        except ValueError as exc:
            raise Bad("invalid limit") from exc

    def rows_for(kind: str, qp: Any, t: float, default_asc: bool) -> list[dict[str, Any]]:
        rows = (filter_markets if kind == "markets" else filter_events)(store, qp, t)
        return _ordered(rows, qp, default_asc)

    def keyset(kind: str, mx: int):
        async def handler(request: Request):
            qp = request.query_params
            if "offset" in qp:
                raise Bad("offset is not allowed on keyset endpoints")
            lim = _limit(qp, 20, mx) or 20
            rows = rows_for(kind, qp, clock.now(), True)
            start = 0
            if qp.get("after_cursor"):
                try:
                    start = int(base64.urlsafe_b64decode(qp["after_cursor"] + "==").decode().split(":")[1])
                except (ValueError, IndexError) as exc:
                    raise Bad("invalid after_cursor") from exc
            page = rows[start : start + lim]
            body: dict[str, Any] = {kind: page}
            if len(page) == lim and start + lim < len(rows):
                body["next_cursor"] = (
                    base64.urlsafe_b64encode(f"o:{start + lim}".encode()).decode().rstrip("=")
                )
            return js(body)

        return handler

    def listing(kind: str):
        async def handler(request: Request):
            qp = request.query_params
            off = int(qp.get("offset", 0) or 0)
            if off > 2000:
                raise Bad(f"offset too large, use /{kind}/keyset for deeper pagination")
            rows = rows_for(kind, qp, clock.now(), False)
            return js(rows[off : off + _limit(qp, 100, 100)])

        return handler

    def one(group: str, by: str):
        async def handler(request: Request):
            key = request.path_params["key"]
            objs = store.visible(store.markets if group == "markets" else store.events, clock.now())
            for o in objs:
                if str(o.get(by)) == key:
                    return js(o)
            return gamma_error(404, "not found", f"{group[:-1]} not found")

        return handler

    async def status(request: Request):
        return js("OK")

    return [
        Route("/markets/keyset", guarded(keyset("markets", 100))),
        Route("/events/keyset", guarded(keyset("events", 500))),
        Route("/markets", guarded(listing("markets"))),
        Route("/events", guarded(listing("events"))),
        Route("/markets/slug/{key}", one("markets", "slug")),
        Route("/markets/{key}", one("markets", "id")),
        Route("/events/slug/{key}", one("events", "slug")),
        Route("/events/{key}", one("events", "id")),
        Route("/status", status),
    ]


# ---------------------------------------------------------------------------------------------- CLOB
NO_BOOK = "No orderbook exists for the requested token id"


def clob_routes(store: ReplayStore, clock: Clock) -> list[Route]:
    def guarded(fn: Callable) -> Callable:
        async def handler(request: Request):
            try:
                return await fn(request)
            except Bad as exc:
                return clob_error(exc.status, exc.msg)

        return handler

    def _token(raw: Any) -> str:
        tok = str(raw or "").strip()
        if not tok.isdigit():
            raise Bad("Invalid token id")
        return tok

    async def ok(request: Request):
        return js("OK")

    async def server_time(request: Request):
        return js(int(clock.now()))

    async def book(request: Request):
        found = store.book(_token(request.query_params.get("token_id")), clock.now())
        return js(found) if found is not None else clob_error(404, NO_BOOK)

    async def books(request: Request):
        try:
            body = orjson.loads(await request.body() or b"[]")
        except orjson.JSONDecodeError as exc:
            raise Bad("Invalid payload") from exc
        if not isinstance(body, list):
            raise Bad("Invalid payload")
        if len(body) > 500:
            raise Bad("Payload exceeds the limit")
        t = clock.now()
        out = []
        for item in body:
            found = store.book(_token(item.get("token_id") if isinstance(item, dict) else None), t)
            if found is None:  # as upstream: a batch holding a token without a book is a 404
                return clob_error(404, NO_BOOK)
            out.append(found)
        return js(out)

    async def prices_history(request: Request):
        qp = request.query_params
        tok = _token(qp.get("market"))
        now = int(clock.now())
        if qp.get("startTs") or qp.get("endTs"):
            end = int(qp.get("endTs") or now)
            start = int(qp.get("startTs") or end - 86400)
            if end - start > 15 * 86400:
                raise Bad("invalid filters: 'startTs' and 'endTs' interval is too long")
        else:
            spans = {"1h": 3600, "6h": 21600, "1d": 86400, "1w": 604800, "1m": 2592000}
            start, end = now - spans.get(qp.get("interval", "1d"), 10**10), now
        return js({"history": store.price_points(tok, start, min(end, now))})

    routes = [
        ("/", ok, ["GET"]),
        ("/ok", ok, ["GET"]),
        ("/time", server_time, ["GET"]),
        ("/book", book, ["GET"]),
        ("/books", books, ["POST"]),
        ("/prices-history", prices_history, ["GET"]),
    ]
    return [Route(p, guarded(f), methods=m) for p, f, m in routes]


# ---------------------------------------------------------------------------------------------- Data API
def data_routes(store: ReplayStore, clock: Clock) -> list[Route]:
    def v2(fn: Callable) -> Callable:
        async def handler(request: Request):
            if "offset" in request.query_params:
                return v2_error(400, "offset is not supported; use cursor", "offset")
            try:
                return await fn(request)
            except Bad as exc:
                return v2_error(exc.status, exc.msg, exc.param)
            except ValueError as exc:
                return v2_error(400, f"invalid parameter: {exc}", "query")

        return handler

    def _conditions(qp: Any, required: bool) -> list[str]:
        cids = qlist(qp, "condition", "condition_id", "conditionId")
        if required and not cids:
            raise Bad("condition is required", "condition")
        if len(cids) > 20:
            raise Bad("at most 20 condition ids", "condition")
        for c in cids:
            if not CID.match(c):
                raise Bad(f"invalid condition id: {c}", "condition")
        return cids

    async def trades(request: Request):
        qp = request.query_params
        limit = max(1, min(int(qp.get("limit", 100)), 1000))
        after = -1
        if qp.get("cursor"):
            after, limit = _read_cursor("trades", qp["cursor"])  # the cursor's page size wins, as upstream
        conditions = _conditions(qp, False)
        side = (qp.get("side") or "").upper()
        cash = (qp.get("filter_type") or "TOKENS").upper() == "CASH"
        floor = float(qp.get("filter_amount", 0.01))
        out: list[dict[str, Any]] = []
        last = after
        more = False
        for i in store.trade_positions(clock.now(), conditions, qp.get("user"), after):
            r = store.trades[i]
            size = float(r.get("size") or 0)
            if (
                side
                and r.get("side") != side
                or (size * float(r.get("price") or 0) if cash else size) < floor
            ):
                continue
            if len(out) == limit:
                more = True
                break
            out.append(r)
            last = i
        nxt = _cursor("trades", last, limit) if more else None
        return js(_env(out, limit, nxt))

    async def activity(request: Request):
        qp = request.query_params
        user = qp.get("user")
        if not user:
            raise Bad("user is required", "user")
        limit = max(1, min(int(qp.get("limit", 100)), 500))
        start = 0
        if qp.get("cursor"):
            start, limit = _read_cursor("activity", qp["cursor"])
        rows = store.activity_rows(user, clock.now())
        page = rows[start : start + limit]
        nxt = _cursor("activity", start + limit, limit) if start + limit < len(rows) else None
        return js(_env(page, limit, nxt))

    async def resolutions(request: Request):
        t = clock.now()
        rows = [r for r in (store.resolution(c, t) for c in _conditions(request.query_params, True)) if r]
        return js(_env(rows, len(rows), None))

    async def empty_list(request: Request):
        return js(_env([], int(request.query_params.get("limit", 100) or 100), None))

    async def empty_value(request: Request):
        return js({"data": None})

    async def v1_retired(request: Request):
        return data_error(404, "not found")

    return [
        Route("/v2/trades", v2(trades)),
        Route("/v2/activity", v2(activity)),
        Route("/v2/resolutions", v2(resolutions)),
        Route("/v2/positions", v2(empty_list)),
        Route("/v2/holders", v2(empty_list)),
        Route("/v2/oi", v2(empty_list)),
        Route("/v2/prices-history", v2(empty_list)),
        Route("/v2/value", v2(empty_value)),
        *[Route(p, v1_retired) for p in ("/trades", "/activity", "/positions", "/holders", "/value", "/oi")],
    ]
