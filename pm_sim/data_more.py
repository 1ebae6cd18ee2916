"""Data API per-user and per-market reads: activity, positions, holders, value, oi, prices-history,
resolutions (v2 envelope) and their v1 twins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .clock import iso, iso_date
from .data_api import (
    CID,
    _Bad,
    _wallet,
    expand_makers,
    make_cursor,
    profile,
    query_trades,
    read_cursor,
    to_v1,
    trade_v2,
)
from .responses import js, qbool, qlist
from .rng import h
from .sim import Sim
from .trades import tx_hash


def _env(data, limit: int, nxt: str | None) -> dict:
    return {"data": data, "pagination": {"limit": limit, "offset": 0, "has_more": nxt is not None,
                                         "next_cursor": nxt}}


def activity_rows(sim: Sim, addr: str) -> list[dict]:
    """All activity of a wallet, newest first: TRADE rows (taker and maker) and its first SPLIT."""
    widx = _wallet(sim, addr)
    if widx is None or widx < 0:
        return []
    rows, _, _ = query_trades(sim, {"user": addr, "taker_only": "false"}, 10 ** 9, None)
    out = []
    for r in rows:
        d = trade_v2(sim, r)
        d = {"proxy_wallet": d["proxy_wallet"], "timestamp": d["timestamp"], "condition_id": d["condition_id"],
             "type": "TRADE", "size": r[6], "usdc_size": round(r[6] * r[7], 6),
             "transaction_hash": d["transaction_hash"], "price": r[7], "token_id": d["token_id"],
             "side": d["side"], "outcome_index": d["outcome_index"], "title": d["title"], "slug": d["slug"],
             "icon": d["icon"], "event_slug": d["event_slug"], "outcome": d["outcome"], "name": d["name"],
             "pseudonym": d["pseudonym"], "bio": "", "profile_image": "", "profile_image_optimized": "",
             "_key": r[:3]}
        out.append(d)
    w = sim.world
    born = w.planted_wallet_created.get(widx, None) if widx >= w.n_wallets else w.wallet_created(widx)
    if born is not None and born <= sim.now():
        # The wallet's first on-chain activity (a collateral split), so wallet age is knowable.
        p = profile(sim, widx)
        out.append({"proxy_wallet": addr.lower(), "timestamp": int(born), "condition_id": "", "type": "SPLIT",
                    "size": 10.0, "usdc_size": 10.0, "transaction_hash": tx_hash(sim.cfg.seed, h(widx, 77)),
                    "price": 0, "token_id": "", "side": "", "outcome_index": 999, "title": "", "slug": "",
                    "icon": "", "event_slug": "", "outcome": "", "name": p["name"], "pseudonym": p["pseudonym"],
                    "bio": "", "profile_image": "", "profile_image_optimized": "", "_key": (int(born * 1000), 0, 0)})
    out.sort(key=lambda d: d["_key"], reverse=True)
    return out


def positions(sim: Sim, addr: str) -> list[dict]:
    agg: dict = {}
    for d in activity_rows(sim, addr):
        if d["type"] != "TRADE":
            continue
        a = agg.setdefault(d["token_id"], {"d": d, "size": 0.0, "cost": 0.0, "bought": 0.0})
        sgn = 1 if d["side"] == "BUY" else -1
        a["size"] += sgn * d["size"]
        if sgn > 0:
            a["cost"] += d["size"] * d["price"]
            a["bought"] += d["size"]
    out = []
    t = sim.now()
    for tok, a in agg.items():
        m, o = sim.token(tok)
        size = round(a["size"], 6)
        avg = a["cost"] / a["bought"] if a["bought"] else 0.0
        cur = sim.world.price(m, t)
        cur = cur if o == 0 else 1 - cur
        closed = t >= m.close_time
        status = "OPEN" if not closed else ("REDEEMABLE" if m.winner == o else "REDEEMABLE_LOST")
        if size <= 0:
            status = "CLOSED"
        d = a["d"]
        out.append({"proxy_wallet": addr.lower(), "token_id": tok, "condition_id": m.condition_id,
                    "size": max(size, 0), "avg_price": round(avg, 6), "initial_value": round(max(size, 0) * avg, 6),
                    "current_value": round(max(size, 0) * cur, 6),
                    "cash_pnl": round(max(size, 0) * (cur - avg), 6),
                    "percent_pnl": round((cur - avg) / avg * 100, 4) if avg else 0.0,
                    "total_bought": round(a["bought"], 6), "realized_pnl": 0.0, "cur_price": round(cur, 4),
                    "redeemable": closed, "mergeable": False, "title": d["title"], "slug": d["slug"],
                    "icon": d["icon"], "event_slug": d["event_slug"], "outcome": m.outcomes[o], "outcome_index": o,
                    "opposite_outcome": m.outcomes[1 - o], "opposite_token_id": m.token_ids[1 - o],
                    "end_date": iso_date(m.end_date), "negative_risk": m.neg_risk, "status": status})
    return out


def holders(sim: Sim, cids: list[str], limit: int) -> list[dict]:
    w = sim.world
    out = []
    for c in cids:
        idx = w.by_condition.get(c.lower())
        if idx is None:
            continue
        m = w.markets[idx]
        bal: dict = {}
        rows, _, _ = query_trades(sim, {"condition": c}, 10 ** 9, None)
        for r in rows:
            bal[(r[5], r[3])] = bal.get((r[5], r[3]), 0.0) + (r[6] if r[4] == 0 else -r[6])
        for o, tok in enumerate(m.token_ids):
            top = sorted(((v, wi) for (oo, wi), v in bal.items() if oo == o and v >= 1), reverse=True)[:limit]
            out.append({"token": tok, "holders": [
                {"proxy_wallet": w.wallet_address(wi), "bio": "", "token_id": tok, **profile(sim, wi),
                 "amount": round(v, 6), "display_username_public": True, "outcome_index": o,
                 "profile_image": "", "profile_image_optimized": "", "verified": False} for v, wi in top]})
    return out


def resolution(sim: Sim, cid: str) -> dict | None:
    w = sim.world
    idx = w.by_condition.get(cid.lower())
    if idx is None:
        return None
    m = w.markets[idx]
    t = sim.now()
    done = t >= m.close_time
    lag = 7200 if m.dispute in ("disputed", "arbitrated") else (86400 if m.dispute == "extended_review" else 0)
    status = "active"
    if done:
        status = "resolved" if t >= m.close_time + lag else ("disputed" if m.dispute else "proposed")
    d = {"condition_id": m.condition_id, "status": status}
    if status == "resolved":
        d["payouts"] = [1000000, 0] if m.winner == 0 else [0, 1000000]
    d.update({"was_disputed": done and m.dispute in ("disputed", "arbitrated"),
              "was_arbitrated": done and m.dispute == "arbitrated",
              "extended_review": done and m.dispute == "extended_review",
              "reporter": "CHAINLINK" if "Bitcoin" in m.question else "UMA",
              "resolution_source": "", "resolved_at": iso(m.close_time + lag) if status == "resolved" else None,
              "resolved_block": 80_000_000 + int(m.close_time + lag) // 2 if status == "resolved" else None,
              "market_type": "BINARY", "last_update_timestamp": int(min(t, m.close_time + lag)),
              "transaction_hash": tx_hash(sim.cfg.seed, h(m.idx, 78)) if done else None,
              "log_index": h(m.idx, 79) % 300 if done else None, "new_version_q": m.version == "v2"})
    return d


def more_routes(sim: Sim, v2, v1) -> list[Route]:
    def _cursor_page(kind: str, rows: list[dict], qp, default_limit: int = 100, mx: int = 500):
        limit = max(1, min(int(qp.get("limit", default_limit)), mx))
        anchor = None
        if qp.get("cursor"):
            limit, anchor, _ = read_cursor(kind, qp["cursor"])
            rows = [d for d in rows if d["_key"] < anchor]
        page = rows[:limit]
        nxt = make_cursor(kind, limit, page[-1]["_key"], 0) if len(rows) > limit else None
        return [{k: v for k, v in d.items() if k != "_key"} for d in page], limit, nxt

    async def activity(request: Request):
        qp = request.query_params
        if not qp.get("user"):
            raise _Bad("user is required", "user")
        rows = activity_rows(sim, qp["user"])
        if qp.get("type"):
            types = set(qlist(qp, "type"))
            rows = [d for d in rows if d["type"] in types]
        data, limit, nxt = _cursor_page("activity", rows, qp)
        return js(_env(data, limit, nxt))

    async def positions_v2(request: Request):
        qp = request.query_params
        if not qp.get("user"):
            raise _Bad("user is required", "user")
        rows = positions(sim, qp["user"])
        if qp.get("status"):
            rows = [d for d in rows if d["status"] == qp["status"].upper()]
        return js(_env(rows, len(rows), None))

    async def holders_v2(request: Request):
        cids = qlist(request.query_params, "condition", "condition_id", "conditionId")
        for c in cids:
            if not CID.match(c):
                raise _Bad(f"invalid resolution condition id: {c}", "condition")
        lim = min(int(request.query_params.get("limit", 20)), 20)
        return js(_env(holders(sim, cids, lim), lim, None))

    async def resolutions(request: Request):
        cids = qlist(request.query_params, "condition", "condition_id", "conditionId")
        if not cids:
            raise _Bad("condition is required", "condition")
        for c in cids:
            if not CID.match(c):
                raise _Bad(f"invalid resolution condition id: {c}", "condition")
        rows = [r for r in (resolution(sim, c) for c in cids) if r]
        return js(_env(rows, len(rows), None))

    async def prices_history(request: Request):
        qp = request.query_params
        tok = qp.get("market") or qp.get("token_id") or ""
        hit = sim.token(tok)
        if hit is None:
            return js(_env([], 0, None))
        m, o = hit
        now = int(sim.now())
        res = int(qp.get("resolution_seconds") or int(qp.get("fidelity", 5)) * 60)
        end = int(qp.get("end_ts") or qp.get("end") or now)
        start = int(qp.get("start_ts") or qp.get("start") or end - 86400)
        if end - start > 15 * 86400:
            raise _Bad("window too long: at most 15 days", "start_ts")
        end = min(end, now)
        limit = max(1, min(int(qp.get("limit", 10000)), 10000))
        if qp.get("cursor"):
            limit, anchor, _ = read_cursor("prices_history", qp["cursor"])
            start = anchor[0] // 1000 + res
        t = max(start, int(m.created_at))
        t = t - t % res + (res if t % res else 0)
        rows = []
        while t <= end and len(rows) <= limit:
            p = sim.world.price(m, t)
            rows.append({"timestamp": t, "price": round(p if o == 0 else 1 - p, 4), "resolution_seconds": res})
            t += res
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = make_cursor("prices_history", limit, (rows[-1]["timestamp"] * 1000, 0, res), limit)
        return js(_env(rows, limit, nxt))

    async def value(request: Request):
        user = request.query_params.get("user")
        if not user:
            raise _Bad("user is required", "user")
        v = round(sum(p["current_value"] for p in positions(sim, user)), 6)
        return js(_env([{"user": user.lower(), "value": v}], 1, None))

    async def oi(request: Request):
        cids = qlist(request.query_params, "condition", "condition_id", "market")
        out = []
        for c in cids:
            idx = sim.world.by_condition.get(c.lower())
            if idx is not None:
                out.append({"market": c.lower(), "value": round(sim.world.markets[idx].weight * 10000, 2)})
        return js(_env(out, len(out), None))

    # v1 twins: bare arrays, camelCase
    def _v1_user(qp) -> str:
        if not qp.get("user"):
            raise _Bad("user is required", "user")
        return qp["user"]

    async def activity_v1(request: Request):
        qp = request.query_params
        off = int(qp.get("offset", 0))
        if off > 3000:
            raise _Bad("max historical activity offset of 3000 exceeded", "offset")
        lim = min(int(qp.get("limit", 100)), 500)
        rows = activity_rows(sim, _v1_user(qp))[off: off + lim]
        return js([to_v1({k: v for k, v in d.items() if k != "_key"}) for d in rows])

    async def positions_v1(request: Request):
        rows = positions(sim, _v1_user(request.query_params))
        ren = {"avg_price": "avgPrice", "initial_value": "initialValue", "current_value": "currentValue",
               "cash_pnl": "cashPnl", "percent_pnl": "percentPnl", "total_bought": "totalBought",
               "realized_pnl": "realizedPnl", "cur_price": "curPrice", "opposite_outcome": "oppositeOutcome",
               "opposite_token_id": "oppositeAsset", "end_date": "endDate", "negative_risk": "negativeRisk"}
        return js([{ren.get(k, k): v for k, v in to_v1(d).items() if k != "status"} for d in rows])

    async def holders_v1(request: Request):
        cids = qlist(request.query_params, "market")
        if not cids:
            raise _Bad("market is required", "market")
        out = holders(sim, cids, min(int(request.query_params.get("limit", 20)), 20))
        for g in out:
            g["holders"] = [{"displayUsernamePublic" if k == "display_username_public" else k: v
                             for k, v in to_v1(x).items()} for x in g["holders"]]
        return js(out)

    async def value_v1(request: Request):
        user = _v1_user(request.query_params)
        return js([{"user": user.lower(), "value": round(sum(p["current_value"] for p in positions(sim, user)), 6)}])

    _ = (qbool, expand_makers)
    return [Route("/v2/activity", v2(activity)), Route("/v2/positions", v2(positions_v2)),
            Route("/v2/holders", v2(holders_v2)), Route("/v2/resolutions", v2(resolutions)),
            Route("/v2/prices-history", v2(prices_history)), Route("/v2/value", v2(value)),
            Route("/v2/oi", v2(oi)), Route("/activity", v1(activity_v1)), Route("/positions", v1(positions_v1)),
            Route("/holders", v1(holders_v1)), Route("/value", v1(value_v1))]
