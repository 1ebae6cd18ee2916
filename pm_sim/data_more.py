"""Data API per-user and per-market reads: activity, positions, holders, value, oi, prices-history,
resolutions (v2 envelope) and their v1 twins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .clock import iso
from .data_api import (
    CID,
    _Bad,
    _wallet,
    make_cursor,
    profile,
    query_trades,
    read_cursor,
    to_v1,
    trade_v2,
    v1_offset_cap,
)
from .positions import (
    holders,
    market_rows,
    portfolio_value,
    position_v1,
    positions_from_rows,
    public,
    select_positions,
    wallet_rows,
)
from .responses import js, qlist
from .rng import h
from .sim import Sim
from .trades import tx_hash

INTERVALS = {
    "1h": 3600,
    "6h": 6 * 3600,
    "1d": 86400,
    "1w": 7 * 86400,
    "1m": 30 * 86400,
    "max": None,
    "all": None,
}


def _env(data, limit: int, nxt: str | None) -> dict:
    return {
        "data": data,
        "pagination": {"limit": limit, "offset": 0, "has_more": nxt is not None, "next_cursor": nxt},
    }


def _activity_trade(sim: Sim, r: tuple) -> dict:
    d = trade_v2(sim, r)
    return {
        "proxy_wallet": d["proxy_wallet"],
        "timestamp": d["timestamp"],
        "condition_id": d["condition_id"],
        "type": "TRADE",
        "size": r[6],
        "usdc_size": round(r[6] * r[7], 6),
        "transaction_hash": d["transaction_hash"],
        "price": r[7],
        "token_id": d["token_id"],
        "side": d["side"],
        "outcome_index": d["outcome_index"],
        "title": d["title"],
        "slug": d["slug"],
        "icon": d["icon"],
        "event_slug": d["event_slug"],
        "outcome": d["outcome"],
        "name": d["name"],
        "pseudonym": d["pseudonym"],
        "bio": "",
        "profile_image": "",
        "profile_image_optimized": "",
        "_key": r[:3],
    }


def _split_row(sim: Sim, addr: str, widx: int) -> dict | None:
    """The wallet's first on-chain activity (a collateral split), so wallet age is knowable."""
    w = sim.world
    born = w.wallet_first_activity(widx)
    if born is None or born > sim.now():
        return None
    n = len(w.markets)
    m = w.markets[h(sim.cfg.seed, widx, 76) % n]
    for k in range(1, 64):  # a split needs a market that existed then
        if m.created_at <= born:
            break
        m = w.markets[h(sim.cfg.seed, widx, 76, k) % n]
    p = profile(sim, widx)
    return {
        "proxy_wallet": addr.lower(),
        "timestamp": int(born),
        "condition_id": m.condition_id,
        "type": "SPLIT",
        "size": 10.0,
        "usdc_size": 10.0,
        "transaction_hash": tx_hash(sim.cfg.seed, h(widx, 77)),
        "price": 0,
        "token_id": "",
        "side": "",
        "outcome_index": 999,
        "title": m.question,
        "slug": m.slug,
        "icon": "",
        "event_slug": w.events[m.event_idx].slug,
        "outcome": "",
        "name": p["name"],
        "pseudonym": p["pseudonym"],
        "bio": "",
        "profile_image": "",
        "profile_image_optimized": "",
        "_key": (int(born * 1000), 0, 0),
    }


def activity_page(sim: Sim, qp, limit: int, anchor: tuple | None) -> tuple[list[dict], bool]:
    """Up to `limit` activity rows of `qp["user"]` older than `anchor`, newest first: TRADE rows (taker and
    maker) and, last, its first SPLIT. Work is bounded by the page, not by the wallet's history."""
    addr = qp.get("user") or ""
    widx = _wallet(sim, addr)
    if widx is None or widx < 0:
        return [], False
    types = set(qlist(qp, "type"))
    rows: list[dict] = []
    more = False
    if not types or "TRADE" in types:
        tq = {k: v for k, v in qp.items() if k != "type"} | {"taker_only": "false"}
        tr, more, _ = query_trades(sim, tq, limit, anchor)
        rows = [_activity_trade(sim, r) for r in tr]
    if not more and (not types or "SPLIT" in types):
        sp = _split_row(sim, addr, widx)
        cids = {c.lower() for c in qlist(qp, "condition", "condition_id", "conditionId", "market")}
        if (
            sp
            and (anchor is None or sp["_key"] < anchor)
            and (not cids or sp["condition_id"] in cids)
            and sp["timestamp"] >= int(float(qp.get("start") or 0))
        ):
            rows.append(sp)
    return rows[:limit], more or len(rows) > limit


def resolution(sim: Sim, cid: str) -> dict | None:
    w = sim.world
    idx = w.by_condition.get(cid.lower())
    if idx is None:
        return None
    m = w.markets[idx]
    t = sim.now()
    done = t >= m.close_time
    lag = (
        7200 if m.dispute in ("disputed", "arbitrated") else (86400 if m.dispute == "extended_review" else 0)
    )
    status = "active"
    if done:
        status = "resolved" if t >= m.close_time + lag else ("disputed" if m.dispute else "proposed")
    d = {"condition_id": m.condition_id, "status": status}
    if status == "resolved":
        d["payouts"] = [1000000, 0] if m.winner == 0 else [0, 1000000]
    d.update(
        {
            "was_disputed": done and m.dispute in ("disputed", "arbitrated"),
            "was_arbitrated": done and m.dispute == "arbitrated",
            "extended_review": done and m.dispute == "extended_review",
            "reporter": "CHAINLINK" if "Bitcoin" in m.question else "UMA_OO",
        }
    )
    if status == "resolved":
        d["resolution_source"] = "reported"  # live rows: "reported" | "derived"; absent while pending
    d.update(
        {
            "resolved_at": iso(m.close_time + lag) if status == "resolved" else None,
            "resolved_block": 80_000_000 + int(m.close_time + lag) // 2 if status == "resolved" else None,
            "market_type": "BINARY",
            "last_update_timestamp": int(min(t, m.close_time + lag)),
            "transaction_hash": tx_hash(sim.cfg.seed, h(m.idx, 78)) if done else None,
            "log_index": h(m.idx, 79) % 300 if done else None,
            "new_version_q": m.version == "v2",
        }
    )
    return d


def _oi(sim: Sim, idx: int) -> float:
    return round(sim.world.markets[idx].weight * 10000, 2)


def more_routes(sim: Sim, v2, v1) -> list[Route]:
    async def activity(request: Request):
        qp = request.query_params
        if not qp.get("user"):
            raise _Bad("user is required", "user")
        limit = max(1, min(int(qp.get("limit", 100)), 1000))
        anchor = None
        if qp.get("cursor"):
            limit, anchor, _ = read_cursor("activity", qp["cursor"])
        rows, more = activity_page(sim, qp, limit, anchor)
        nxt = make_cursor("activity", limit, rows[-1]["_key"], 0) if more and rows else None
        return js(_env([public(d) for d in rows], limit, nxt))

    async def positions_v2(request: Request):
        qp = request.query_params
        cids = qlist(qp, "condition", "condition_id", "conditionId")
        for c in cids:
            if not CID.match(c):
                raise _Bad(f"invalid condition id: {c}", "condition")
        if qp.get("user"):
            rows = positions_from_rows(sim, wallet_rows(sim, qp["user"]))
            if cids:
                rows = [d for d in rows if d["condition_id"] in {c.lower() for c in cids}]
        elif len(cids) == 1:  # one market's positions across wallets
            rows = positions_from_rows(sim, market_rows(sim, cids[0]))
        else:
            raise _Bad("user or exactly one condition is required", "user")
        rows = select_positions(rows, qp)
        limit = max(1, min(int(qp.get("limit", 100)), 1000))
        off = 0
        if qp.get("cursor"):
            limit, key, _ = read_cursor("positions", qp["cursor"])
            off = key[2]
        page = rows[off : off + limit]
        nxt = make_cursor("positions", limit, (0, 0, off + limit), 0) if len(rows) > off + limit else None
        return js(_env([public(d) for d in page], limit, nxt))

    async def holders_v2(request: Request):
        qp = request.query_params
        cids = qlist(qp, "condition", "condition_id", "conditionId")
        if not cids:
            raise _Bad("condition is required", "condition")
        for c in cids:
            if not CID.match(c):
                raise _Bad(f"invalid resolution condition id: {c}", "condition")
        lim = max(1, min(int(qp.get("limit", 20)), 1000))
        out = holders(sim, cids, lim, float(qp.get("min_balance") or 1))
        return js(_env(out, lim, None))

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
        if qp.get("as_of"):  # the exact price at one instant (resolution 0), as the official SDK asks
            t = min(int(qp["as_of"]), now)
            if t < m.created_at:
                return js(_env([], 1, None))
            p = sim.world.price(m, t)
            return js(
                _env(
                    [{"timestamp": t, "price": round(p if o == 0 else 1 - p, 4), "resolution_seconds": 0}],
                    1,
                    None,
                )
            )
        interval = qp.get("interval")
        res = int(qp.get("bucket_seconds") or qp.get("resolution_seconds") or 0) or (
            int(qp["fidelity"]) * 60
            if qp.get("fidelity")
            else (3600 if interval in ("1w", "1m", "max", "all") else 300)
        )
        if interval:
            if interval not in INTERVALS:
                raise _Bad(f"invalid interval: {interval}", "interval")
            end = now
            start = int(m.created_at) if INTERVALS[interval] is None else end - INTERVALS[interval]
        else:
            end = int(qp.get("end_ts") or qp.get("end") or now)
            start = int(qp.get("start_ts") or qp.get("start") or end - 86400)
            if end - start > 15 * 86400:
                raise _Bad("window too long: at most 15 days", "start_ts")
        # An explicit end is exclusive (the official SDK documents start/end windows as end-exclusive).
        last = min(end - 1 if (qp.get("end") or qp.get("end_ts")) and not interval else end, now)
        limit = max(1, min(int(qp.get("limit", 10000)), 10000))
        if qp.get("cursor"):
            limit, anchor, _ = read_cursor("prices_history", qp["cursor"])
            start = anchor[0] // 1000 + res
        t = max(start, int(m.created_at))
        t = t - t % res + (res if t % res else 0)
        rows = []
        while t <= last and len(rows) <= limit:
            p = sim.world.price(m, t)
            rows.append(
                {"timestamp": t, "price": round(p if o == 0 else 1 - p, 4), "resolution_seconds": res}
            )
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
        return js({"data": {"proxy_wallet": user.lower(), "value": portfolio_value(sim, user)}})

    async def oi(request: Request):
        cids = qlist(request.query_params, "condition", "condition_id", "market")
        out = []
        for c in cids:
            idx = sim.world.by_condition.get(c.lower())
            if idx is not None:
                out.append({"condition_id": c.lower(), "value": _oi(sim, idx)})
        if not cids:
            out.append(
                {
                    "condition_id": "GLOBAL",
                    "value": round(sum(_oi(sim, i) for i in range(len(sim.world.markets))), 2),
                }
            )
        return js(_env(out, len(out), None))

    # v1 twins: bare arrays, camelCase
    def _v1_user(qp) -> str:
        if not qp.get("user"):
            raise _Bad("user is required", "user")
        return qp["user"]

    async def activity_v1(request: Request):
        qp = request.query_params
        off = int(qp.get("offset", 0))
        if off > v1_offset_cap(sim):
            raise _Bad(f"max historical activity offset of {v1_offset_cap(sim)} exceeded", "offset")
        lim = min(int(qp.get("limit", 100)), 500)
        _v1_user(qp)
        rows = activity_page(sim, qp, off + lim, None)[0][off : off + lim]
        return js([to_v1(public(d)) for d in rows])

    async def positions_v1(request: Request):
        rows = positions_from_rows(sim, wallet_rows(sim, _v1_user(request.query_params)))
        return js([position_v1(d) for d in rows if d["status"] != "CLOSED"])

    async def holders_v1(request: Request):
        cids = qlist(request.query_params, "market")
        if not cids:
            raise _Bad("market is required", "market")
        out = holders(
            sim,
            cids,
            min(int(request.query_params.get("limit", 20)), 20),
            float(request.query_params.get("minBalance") or 1),
        )
        for g in out:
            g["token"] = g.pop("token_id")  # v1 groups are {"token", "holders"} (§3.2)
            g["holders"] = [
                {
                    "displayUsernamePublic" if k == "display_username_public" else k: v
                    for k, v in to_v1(x).items()
                }
                for x in g["holders"]
            ]
        return js(out)

    async def oi_v1(request: Request):
        cids = qlist(request.query_params, "market")
        return js(
            [
                {"market": c.lower(), "value": _oi(sim, sim.world.by_condition[c.lower()])}
                for c in cids
                if c.lower() in sim.world.by_condition
            ]
        )

    async def value_v1(request: Request):
        user = _v1_user(request.query_params)
        return js([{"user": user.lower(), "value": portfolio_value(sim, user)}])

    return [
        Route("/v2/activity", v2(activity)),
        Route("/v2/positions", v2(positions_v2)),
        Route("/v2/holders", v2(holders_v2)),
        Route("/v2/resolutions", v2(resolutions)),
        Route("/v2/prices-history", v2(prices_history)),
        Route("/v2/value", v2(value)),
        Route("/v2/oi", v2(oi)),
        Route("/activity", v1(activity_v1)),
        Route("/positions", v1(positions_v1)),
        Route("/holders", v1(holders_v1)),
        Route("/value", v1(value_v1)),
        Route("/oi", v1(oi_v1)),
    ]
