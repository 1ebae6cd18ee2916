"""CLOB REST (/clob): books, prices, history, market listings, the public reads py-clob-client makes."""

from __future__ import annotations

import base64

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .books import best
from .clock import iso
from .fmt import num_str, tick_places
from .responses import clob_error, js, qlist
from .sim import Sim
from .world import Market

NO_BOOK = "No orderbook exists for the requested token id"
INTERVALS = {"1h": 3600, "6h": 6 * 3600, "1d": 86400, "1w": 7 * 86400, "1m": 30 * 86400}
PAGE = 1000


class _Err(Exception):
    def __init__(self, status: int, msg: str):
        self.status, self.msg = status, msg


def _lookup(sim: Sim, token_id: str | None, need_book: bool = True) -> tuple[Market, int]:
    if not token_id or not token_id.isdigit():
        raise _Err(400, "Invalid token id")
    hit = sim.token(token_id)
    if hit is None or (need_book and not sim.book_available(hit[0], sim.now())):
        raise _Err(404, NO_BOOK)
    return hit


def _tops(sim: Sim, token_id: str) -> tuple[float, float | None, float | None]:
    m, o = _lookup(sim, token_id)
    return best(sim.world, m, o, sim.now())


def _pstr(x: float | None, tick: float, extra: int = 0) -> str:
    return "0" if x is None else num_str(x, tick_places(tick) + extra)


def price_for(sim: Sim, token_id: str, side: str) -> str:
    side = (side or "").upper()
    if side not in ("BUY", "SELL"):
        raise _Err(400, "Invalid side")
    tick, bb, ba = _tops(sim, token_id)
    return _pstr(bb if side == "BUY" else ba, tick)  # BUY = best bid, as upstream


def mid_for(sim: Sim, token_id: str) -> str:
    tick, bb, ba = _tops(sim, token_id)
    return _pstr(((bb or 0) + (ba if ba is not None else 1)) / 2, tick, 1)


def spread_for(sim: Sim, token_id: str) -> str:
    tick, bb, ba = _tops(sim, token_id)
    return _pstr((ba if ba is not None else 1) - (bb or 0), tick)


def last_trade(sim: Sim, token_id: str) -> dict:
    m, o = _lookup(sim, token_id, need_book=False)
    price, side = sim.ltp(m, o, sim.clock.now_ms())
    return {"price": price or "0.5", "side": side}


def clob_market(sim: Sim, m: Market, t: float) -> dict:
    w = sim.world
    closed = t >= m.close_time
    p = w.price(m, t)
    winners = [closed and m.winner == 0, closed and m.winner == 1]
    return {
        "enable_order_book": m.has_book,
        "active": True,
        "closed": closed,
        "archived": False,
        "accepting_orders": m.has_book and not closed,
        "accepting_order_timestamp": iso(m.created_at + 60, False),
        "minimum_order_size": 5,
        "minimum_tick_size": w.tick_at(m, t),
        "condition_id": m.condition_id,
        "question_id": m.question_id,
        "question": m.question,
        "description": f"This market resolves Yes if: {m.question}",
        "market_slug": m.slug,
        "end_date_iso": iso(m.end_date, False),
        "game_start_time": None,
        "seconds_delay": 0,
        "fpmm": "",
        "maker_base_fee": 0,
        "taker_base_fee": 1000 if m.fee_schedule else 0,
        "notifications_enabled": True,
        "neg_risk": m.neg_risk,
        "neg_risk_market_id": m.neg_risk_market_id or "",
        "neg_risk_request_id": ("0x" + m.question_id[2:][::-1]) if m.neg_risk else "",
        "icon": f"https://polymarket-upload.s3.us-east-2.amazonaws.com/sim-{m.idx}.png",
        "image": f"https://polymarket-upload.s3.us-east-2.amazonaws.com/sim-{m.idx}.png",
        "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
        "is_50_50_outcome": False,
        "tokens": [
            {
                "token_id": tok,
                "outcome": m.outcomes[i],
                "price": round(p if i == 0 else 1 - p, 4),
                "winner": winners[i],
            }
            for i, tok in enumerate(m.token_ids)
        ],
        "tags": [m.tag[1]],
    }


def simplified(sim: Sim, m: Market, t: float) -> dict:
    d = clob_market(sim, m, t)
    return {
        k: d[k]
        for k in ("condition_id", "rewards", "tokens", "active", "closed", "archived", "accepting_orders")
    }


def _page(rows_fn, cursor: str | None) -> dict:
    try:
        start = int(base64.b64decode(cursor).decode()) if cursor else 0
    except ValueError:
        start = 0  # malformed cursor: upstream answers from the start
    if start < 0:
        return {"limit": PAGE, "count": 0, "next_cursor": "LTE=", "data": []}
    rows = rows_fn()
    data = rows[start : start + PAGE]
    nxt = start + PAGE
    cur = base64.b64encode(str(nxt).encode()).decode() if nxt < len(rows) else "LTE="
    return {"limit": PAGE, "count": len(data), "next_cursor": cur, "data": data}


def routes(sim: Sim) -> list[Route]:
    w = sim.world

    def guard(fn):
        async def handler(request: Request) -> Response:
            try:
                return await fn(request)
            except _Err as e:
                return clob_error(e.status, e.msg)
            except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError):
                return clob_error(400, "Invalid payload")

        return handler

    async def body_list(request: Request, cap: int = 500) -> list:
        body = orjson.loads(await request.body() or b"[]")
        if not isinstance(body, list):
            raise _Err(400, "Invalid payload")
        if len(body) > cap:
            raise _Err(400, "Payload exceeds the limit")
        return body

    async def ok(request):
        return js("OK")

    async def server_time(request):
        return js(int(sim.now()))

    async def book(request):
        m, o = _lookup(sim, request.query_params.get("token_id"))
        return js(sim.book(m, o, sim.now()))

    async def books(request):
        out = []
        for item in await body_list(request):
            m, o = _lookup(sim, str(item["token_id"]))
            out.append(sim.book(m, o, sim.now()))
        return js(out)

    async def price(request):
        qp = request.query_params
        return js({"price": price_for(sim, qp.get("token_id"), qp.get("side"))})

    async def prices(request):
        if request.method == "POST":
            pairs = [(str(x["token_id"]), x["side"]) for x in await body_list(request)]
        else:
            toks, sides = qlist(request.query_params, "token_ids"), qlist(request.query_params, "sides")
            pairs = list(zip(toks, sides or ["BUY"] * len(toks), strict=False))
        out: dict = {}
        for tok, side in pairs:
            out.setdefault(tok, {})[side.upper()] = price_for(sim, tok, side)
        return js(out)

    async def midpoint(request):
        return js({"mid": mid_for(sim, request.query_params.get("token_id"))})

    async def midpoints(request):
        toks = (
            [str(x["token_id"]) for x in await body_list(request)]
            if request.method == "POST"
            else qlist(request.query_params, "token_ids")
        )
        return js({t: mid_for(sim, t) for t in toks})

    async def spread(request):
        return js({"spread": spread_for(sim, request.query_params.get("token_id"))})

    async def spreads(request):
        toks = (
            [str(x["token_id"]) for x in await body_list(request)]
            if request.method == "POST"
            else qlist(request.query_params, "token_ids")
        )
        return js({t: spread_for(sim, t) for t in toks})

    async def ltp(request):
        return js(last_trade(sim, request.query_params.get("token_id")))

    async def ltps(request):
        toks = (
            [str(x["token_id"]) for x in await body_list(request)]
            if request.method == "POST"
            else qlist(request.query_params, "token_ids")
        )
        return js([{"token_id": t, **last_trade(sim, t)} for t in toks])

    async def prices_history(request):
        qp = request.query_params
        m, o = _lookup(sim, qp.get("market"), need_book=False)
        now = sim.now()
        fid = max(1, int(qp.get("fidelity", 1))) * 60
        if qp.get("startTs") or qp.get("endTs"):
            end = int(qp.get("endTs") or now)
            start = int(qp.get("startTs") or end - 86400)
            if end - start > 15 * 86400:
                raise _Err(400, "invalid filters: 'startTs' and 'endTs' interval is too long")
        else:
            iv = qp.get("interval", "1d")
            span = INTERVALS.get(iv, now - max(m.created_at, w.history_start - 30 * 86400))
            start, end = int(now - span), int(now)
        start = max(start, int(m.created_at))
        end = min(end, int(now), int(m.close_time))
        while (end - start) / fid > 5000:  # long windows come back coarser, like upstream
            fid *= 2
        pts = []
        t = start - start % fid
        while t <= end:
            if t >= start:
                p = w.price(m, t)
                pts.append({"t": t, "p": round(p if o == 0 else 1 - p, 4)})
            t += fid
        return js({"history": pts})

    def listing(kind: str):
        async def handler(request):
            t = sim.now()

            def rows():
                ms = (
                    w.markets
                    if "sampling" not in kind
                    else [m for m in w.markets if m.has_book and m.created_at <= t < m.close_time]
                )
                ms = [m for m in ms if m.created_at <= t]
                fn = simplified if "simplified" in kind else clob_market
                return [fn(sim, m, t) for m in ms]

            return js(_page(rows, request.query_params.get("next_cursor")))

        return handler

    async def market(request):
        idx = w.by_condition.get(request.path_params["cid"].lower())
        if idx is None or w.markets[idx].created_at > sim.now():
            raise _Err(404, "market not found")
        return js(clob_market(sim, w.markets[idx], sim.now()))

    async def clob_markets(request):
        idx = w.by_condition.get(request.path_params["cid"].lower())  # 62-hex ids never match: 404
        if idx is None:
            raise _Err(404, "market not found")
        m = w.markets[idx]
        t = sim.now()
        fs = m.fee_schedule
        return js(
            {
                "gst": None,
                "r": {"min_size": 0, "max_spread": 0},
                "t": [{"t": tok, "o": m.outcomes[i]} for i, tok in enumerate(m.token_ids)],
                "mos": 5,
                "mts": w.tick_at(m, t),
                "mbf": 0,
                "tbf": 1000 if fs else 0,
                "rfqe": False,
                "itode": False,
                "ibce": False,
                "fd": {"r": fs["rate"], "e": fs["exponent"], "to": fs["takerOnly"]} if fs else None,
                "oas": iso(m.created_at + 60, False),
            }
        )

    async def tick_size(request):
        tok = request.path_params.get("tok") or request.query_params.get("token_id")
        try:
            m, _ = _lookup(sim, tok, need_book=False)
        except _Err as e:
            raise _Err(
                e.status if e.status == 400 else 404, e.msg if e.status == 400 else "market not found"
            ) from e
        return js({"minimum_tick_size": w.tick_at(m, sim.now())})

    async def neg_risk(request):
        m, _ = _lookup(sim, request.query_params.get("token_id"), need_book=False)
        return js({"neg_risk": m.neg_risk})

    async def fee_rate(request):
        m, _ = _lookup(sim, request.query_params.get("token_id"), need_book=False)
        return js({"base_fee": 1000 if m.fee_schedule else 0})

    async def by_token(request):
        m, _ = _lookup(sim, request.path_params["tok"], need_book=False)
        return js(
            {
                "condition_id": m.condition_id,
                "primary_token_id": m.token_ids[0],
                "secondary_token_id": m.token_ids[1],
            }
        )

    r = [
        ("/", ok, ["GET"]),
        ("/ok", ok, ["GET"]),
        ("/time", server_time, ["GET"]),
        ("/book", book, ["GET"]),
        ("/books", books, ["POST"]),
        ("/price", price, ["GET"]),
        ("/prices", prices, ["GET", "POST"]),
        ("/midpoint", midpoint, ["GET"]),
        ("/midpoints", midpoints, ["GET", "POST"]),
        ("/spread", spread, ["GET"]),
        ("/spreads", spreads, ["GET", "POST"]),
        ("/last-trade-price", ltp, ["GET"]),
        ("/last-trades-prices", ltps, ["GET", "POST"]),
        ("/prices-history", prices_history, ["GET"]),
        ("/markets", listing("markets"), ["GET"]),
        ("/sampling-markets", listing("sampling-markets"), ["GET"]),
        ("/simplified-markets", listing("simplified-markets"), ["GET"]),
        ("/sampling-simplified-markets", listing("sampling-simplified-markets"), ["GET"]),
        ("/markets/{cid}", market, ["GET"]),
        ("/clob-markets/{cid}", clob_markets, ["GET"]),
        ("/tick-size", tick_size, ["GET"]),
        ("/tick-size/{tok}", tick_size, ["GET"]),
        ("/neg-risk", neg_risk, ["GET"]),
        ("/fee-rate", fee_rate, ["GET"]),
        ("/markets-by-token/{tok}", by_token, ["GET"]),
    ]
    return [Route(p, guard(f), methods=ms) for p, f, ms in r]
