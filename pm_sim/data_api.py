"""Data API (/data): v2 (cursor, snake_case, the default contract) and v1 (offset, camelCase, retirable)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

import orjson
from starlette.requests import Request
from starlette.routing import Route

from . import flowfit
from .responses import data_error, js, qbool, qlist, v2_error
from .rng import h, u01
from .sim import Sim
from .trades import tx_hash

CID = re.compile(r"^0x[0-9a-fA-F]{64}$")
ADJ = ("Comfortable", "Grumpy", "Absolute", "Quiet", "Brave", "Lucky", "Swift", "Clever", "Gentle", "Bold")
NOUN = ("Insulation", "Pipeline", "Raise", "Harbor", "Falcon", "Ledger", "Summit", "Comet", "Anchor", "Maple")
SECRET = b"pm-sim-cursor"
SQ = 10**7


class _Bad(Exception):
    def __init__(self, msg: str, param: str, status: int = 400):
        self.msg, self.param, self.status = msg, param, status


# ------------------------------------------------------------------ cursors
def make_cursor(kind: str, limit: int, key: tuple, depth: int) -> str:
    ts_ms, m, jj = key
    sq = (ts_ms % 1000) * 10**15 + m * SQ + jj
    data = {"type": kind, "params": {"l": limit, "ts": ts_ms // 1000, "sq": str(sq), "d": depth}}
    raw = orjson.dumps(data)
    sig = hashlib.md5(SECRET + raw).hexdigest()  # noqa: S324 - an opaque tag, not security
    return (
        base64.urlsafe_b64encode(b'{"data":' + raw + b',"sig":"' + sig.encode() + b'"}').decode().rstrip("=")
    )


def read_cursor(kind: str, cur: str) -> tuple[int, tuple, int]:
    try:
        obj = orjson.loads(base64.urlsafe_b64decode(cur + "=" * (-len(cur) % 4)))
        data = obj["data"]
        if obj["sig"] != hashlib.md5(SECRET + orjson.dumps(data)).hexdigest() or data["type"] != kind:  # noqa: S324
            raise ValueError
        p = data["params"]
        sq = int(p["sq"])
        key = (p["ts"] * 1000 + sq // 10**15, (sq % 10**15) // SQ, sq % SQ)
        return int(p["l"]), key, int(p["d"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _Bad("invalid cursor", "cursor") from exc


# ------------------------------------------------------------------ rows
def profile(sim: Sim, widx: int) -> dict:
    s = sim.cfg.seed
    addr = sim.world.wallet_address(widx)
    r = u01(s, 500, widx)
    name = (
        ""
        if r < 0.4
        else (
            f"{addr}-{1760000000000 + h(s, 501, widx) % 10**10}"
            if r < 0.7
            else f"{ADJ[h(s, 502, widx) % 10].lower()}{h(s, 503, widx) % 1000}"
        )
    )
    return {"name": name, "pseudonym": f"{ADJ[h(s, 504, widx) % 10]}-{NOUN[h(s, 505, widx) % 10]}"}


def expand_makers(rows: list[tuple]) -> list[tuple]:
    out = []
    for r in rows:
        out.append((r[0], r[1], r[2] + 1, r[9], 1 - r[4], *r[5:9], r[3]))  # maker row sorts just before
        out.append(r)
    return out


def trade_v2(sim: Sim, r: tuple) -> dict:
    w = sim.world
    m = w.markets[r[1]]
    ev = w.events[m.event_idx]
    odd = m.idx % 97 == 13  # a few real rows carry outcome_index 999 and an empty event_slug
    p = profile(sim, r[3])
    return {
        "proxy_wallet": w.wallet_address(r[3]),
        "side": "BUY" if r[4] == 0 else "SELL",
        "token_id": m.token_ids[r[5]],
        "condition_id": m.condition_id,
        "size": r[6],
        "price": r[7],
        "timestamp": r[0] // 1000,
        "title": m.question,
        "slug": m.slug,
        "icon": f"https://polymarket-upload.s3.us-east-2.amazonaws.com/sim-{m.idx}.png",
        "event_slug": "" if odd else ev.slug,
        "outcome": m.outcomes[r[5]],
        "outcome_index": 999 if odd else r[5],
        "name": p["name"],
        "pseudonym": p["pseudonym"],
        "bio": "",
        "profile_image": "",
        "profile_image_optimized": "",
        "transaction_hash": tx_hash(sim.cfg.seed, r[8]),
    }


V1_KEYS = {
    "proxy_wallet": "proxyWallet",
    "token_id": "asset",
    "condition_id": "conditionId",
    "event_slug": "eventSlug",
    "outcome_index": "outcomeIndex",
    "profile_image": "profileImage",
    "profile_image_optimized": "profileImageOptimized",
    "transaction_hash": "transactionHash",
    "usdc_size": "usdcSize",
}


def to_v1(d: dict) -> dict:
    return {V1_KEYS.get(k, k): v for k, v in d.items()}


# ------------------------------------------------------------------ queries
def _conditions(sim: Sim, qp) -> list[int] | None:
    cids = qlist(qp, "condition", "condition_id", "conditionId", "market")
    evs = qlist(qp, "event_id", "eventId")
    if not cids and not evs:
        return None
    if len(cids) > 20:
        raise _Bad("too many condition ids (max 20)", "condition")
    if len(evs) > 20:
        raise _Bad("too many event ids (max 20)", "event_id")
    out: list[int] = []
    for c in cids:
        if not CID.match(c):
            raise _Bad(f"invalid resolution condition id: {c}", "condition")
        idx = sim.world.by_condition.get(c.lower())
        if idx is not None:
            out.append(idx)
    for e in evs:
        idx = sim.world.event_by_id.get(e)
        if idx is not None:
            out.extend(sim.world.events[idx].markets)
    return out


def _wallet(sim: Sim, addr: str | None) -> int | None:
    if not addr:
        return None
    addr = addr.lower()
    if not re.match(r"^0x[0-9a-f]{40}$", addr):
        raise _Bad(f"invalid user address: {addr}", "user")
    w = sim.world
    if not hasattr(w, "wallet_index"):
        w.wallet_index = {w.wallet_address(i): i for i in range(w.n_wallets)}
        w.wallet_index.update({w.wallet_address(i): i for i in w.planted_wallet_created})
    hit = w.wallet_index.get(addr)
    if hit is None:
        hit = flowfit.fresh_index(sim.cfg.seed, addr)
    return -1 if hit is None else hit


def v1_offset_cap(sim: Sim) -> int:
    """v1 offset cap: 1000 in the 2025 contract (Aug-2025 changelog, §3.1), 3000 as observed live in 2026."""
    return 1000 if sim.cfg.legacy else 3000


def _month_floor(t: float) -> float:
    d = datetime.fromtimestamp(t, UTC)
    y, mth = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    return datetime(y, mth, 1, tzinfo=UTC).timestamp()


def query_trades(
    sim: Sim, qp, want: int, anchor: tuple | None, v1: bool = False
) -> tuple[list[tuple], bool, bool]:
    """Rows newest first (taker rows, plus makers when taker_only=false). Returns (rows, more, global)."""
    now_ms = sim.clock.now_ms()
    markets = _conditions(sim, qp)
    wallet = _wallet(sim, qp.get("user"))
    taker_only = qbool(qp.get("takerOnly" if v1 else "taker_only"), True)
    side = (qp.get("side") or "").upper()
    ftype = (qp.get("filterType" if v1 else "filter_type") or "TOKENS").upper()
    famt = float(qp.get("filterAmount" if v1 else "filter_amount") or 0.01)
    floor_ms = int(sim.world.history_start * 1000)
    glob = markets is None and wallet is None
    if glob:
        floor_ms = max(floor_ms, int(_month_floor(now_ms / 1000) * 1000))
    if wallet is not None:  # start/end are honoured only together with user
        if qp.get("start"):
            floor_ms = max(floor_ms, int(float(qp["start"]) * 1000))
        if qp.get("end"):
            now_ms = min(now_ms, int(float(qp["end"]) * 1000) + 999)
    if wallet == -1 or markets == []:
        return [], False, glob
    out: list[tuple] = []
    for r in sim.flow.iter_rows(now_ms, floor_ms, markets, wallet, anchor, include_maker=not taker_only):
        batch = expand_makers([r]) if not taker_only else [r]
        for x in batch:
            if anchor is not None and (x[0], x[1], x[2]) >= anchor:
                continue
            if wallet is not None and x[3] != wallet or side and (x[4] == 0) != (side == "BUY"):
                continue
            if (x[6] if ftype == "TOKENS" else x[6] * x[7]) < famt:
                continue
            out.append(x)
        if len(out) > want:
            return out[:want], True, glob
    return out, False, glob


def routes(sim: Sim) -> list[Route]:
    from .data_more import more_routes

    def v2(fn):
        async def handler(request: Request):
            if "offset" in request.query_params:
                return v2_error(400, "offset is not supported; use cursor", "offset")
            try:
                return await fn(request)
            except _Bad as e:
                return v2_error(e.status, e.msg, e.param)
            except ValueError as e:
                return v2_error(400, f"invalid parameter: {e}", "query")

        return handler

    async def trades_v2(request: Request):
        qp = request.query_params
        limit = max(1, min(int(qp.get("limit", 100)), 1000))
        anchor, depth = None, 0
        if qp.get("cursor"):
            limit, anchor, depth = read_cursor("trades", qp["cursor"])  # the cursor's page size wins
        rows, more, glob = query_trades(sim, qp, limit, anchor)
        depth += len(rows)
        cap = sim.faults.get("feed_cap")
        if glob and cap and depth >= int(cap):
            more = False  # the burst is deeper than the unfiltered feed pages back
        nxt = make_cursor("trades", limit, rows[-1][:3], depth) if more and rows else None
        return js(
            {
                "data": [trade_v2(sim, r) for r in rows],
                "pagination": {"limit": limit, "offset": 0, "has_more": nxt is not None, "next_cursor": nxt},
            }
        )

    def v1(fn):
        async def handler(request: Request):
            if sim.faults.on("data_v1_off"):
                return data_error(404, "not found")
            try:
                return await fn(request)
            except _Bad as e:
                return data_error(e.status, e.msg)
            except ValueError as e:
                return data_error(400, str(e))

        return handler

    async def trades_v1(request: Request):
        qp = request.query_params
        limit = max(0, min(int(qp.get("limit", 100)), 500))
        off = int(qp.get("offset", 0))
        if off > v1_offset_cap(sim):
            return data_error(400, f"max historical activity offset of {v1_offset_cap(sim)} exceeded")
        rows, _, _ = query_trades(sim, qp, off + limit, None, v1=True)
        return js([to_v1(trade_v2(sim, r)) for r in rows[off : off + limit]])

    return [Route("/v2/trades", v2(trades_v2)), Route("/trades", v1(trades_v1))] + more_routes(sim, v2, v1)
