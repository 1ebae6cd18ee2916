"""Holdings derived from the served trades: `/v2/positions` rows, `/v2/holders` groups, `/v2/value`.

Row shapes follow the live Data API v2 captures the contract cites ([POLYOXIDE] `v2/positions.json`,
`v2/holders.json`, `v2/value.json`; the official SDK's models agree): a position row carries
`current_size`, `entry_cost_usdc`, `entry_fees_usdc`, realized/unrealized PnL and a row `status` of
`OPEN`, `REDEEMABLE` or `CLOSED` (`REDEEMABLE_LOST` and `MERGEABLE` only narrow a listing).
Only trades inside the simulated history count, so old wallets' holdings start from zero.
"""

from __future__ import annotations

import math

from .clock import iso_date
from .data_api import _wallet, profile, query_trades
from .sim import Sim

ALL = 10**9
SORT_KEYS = {
    "CURRENT_VALUE": "current_value",
    "PRICE": "current_price",
    "TOKENS": "current_size",
    "UNREALIZED_PNL": "unrealized_pnl",
    "REALIZED_PNL": "realized_pnl",
    "TOTAL_PNL": "total_pnl",
    "TIMESTAMP": "last_event_at",
}


def taker_fee(sim: Sim, mi: int, size: float, price: float) -> float:
    """§L.3: fee = C × rate × (p(1−p))^exponent, floored to 5 decimals; only takers pay."""
    fs = sim.world.markets[mi].fee_schedule
    if not fs:
        return 0.0
    return math.floor(size * fs["rate"] * (price * (1 - price)) ** fs["exponent"] * 1e5) / 1e5


def wallet_rows(sim: Sim, addr: str) -> list[tuple]:
    """Every fill row of a wallet (taker and maker sides), newest first."""
    widx = _wallet(sim, addr)
    if widx is None or widx < 0:
        return []
    return query_trades(sim, {"user": addr, "taker_only": "false"}, ALL, None)[0]


def market_rows(sim: Sim, cid: str) -> list[tuple]:
    """Every fill row of one market, both sides of each fill (each wallet's own view)."""
    return query_trades(sim, {"condition": cid, "taker_only": "false"}, ALL, None)[0]


def positions_from_rows(sim: Sim, rows: list[tuple]) -> list[dict]:
    """One row per (wallet, token) held or once held in `rows`."""
    agg: dict = {}
    for r in reversed(rows):  # oldest first: realized PnL needs the running average price
        a = agg.setdefault(
            (r[3], r[1], r[5]),
            {
                "size": 0.0,
                "bought": 0.0,
                "cost": 0.0,
                "fees": 0.0,
                "realized": 0.0,
                "first": r[0],
                "last": r[0],
            },
        )
        a["last"] = r[0]
        size, price = r[6], r[7]
        if r[4] == 0:
            a["size"] += size
            a["bought"] += size
            a["cost"] += size * price
            if r[2] % 2 == 0:
                a["fees"] += taker_fee(sim, r[1], size, price)
        else:
            avg = a["cost"] / a["bought"] if a["bought"] else 0.0
            a["realized"] += min(size, max(a["size"], 0.0)) * (price - avg)
            a["size"] -= size
    t = sim.now()
    w = sim.world
    out = []
    for (widx, mi, o), a in agg.items():
        m = w.markets[mi]
        ev = w.events[m.event_idx]
        size = round(max(a["size"], 0.0), 6)
        avg = a["cost"] / a["bought"] if a["bought"] else 0.0
        closed = t >= m.close_time
        cur = w.price(m, t)
        cur = cur if o == 0 else 1 - cur
        entry = size * avg
        unreal = size * (cur - avg)
        status = "CLOSED" if size <= 0 else ("REDEEMABLE" if closed else "OPEN")
        p = profile(sim, widx)
        out.append(
            {
                "proxy_wallet": w.wallet_address(widx),
                "token_id": m.token_ids[o],
                "condition_id": m.condition_id,
                "current_size": size,
                "avg_price": round(avg, 4),
                "entry_cost_usdc": round(entry, 4),
                "entry_fees_usdc": round(a["fees"], 5),
                "total_cost_usdc": round(entry + a["fees"], 5),
                "current_price": round(cur, 4),
                "current_value": round(size * cur, 4),
                "total_size": round(a["bought"], 6),
                "realized_pnl": round(a["realized"], 4),
                "unrealized_pnl": round(unreal, 4),
                "total_pnl": round(a["realized"] + unreal, 4),
                "percent_pnl": round(unreal / entry * 100, 4) if entry else 0.0,
                "percent_realized_pnl": round(a["realized"] / a["cost"] * 100, 4) if a["cost"] else 0.0,
                "status": status,
                "redeemable": closed and size > 0,
                "mergeable": False,
                "negative_risk": m.neg_risk,
                "archived": False,
                "title": m.question,
                "slug": m.slug,
                "icon": f"https://polymarket-upload.s3.us-east-2.amazonaws.com/sim-{m.idx}.png",
                "event_id": ev.id,
                "event_slug": ev.slug,
                "outcome": m.outcomes[o],
                "outcome_index": o,
                "opposite_outcome": m.outcomes[1 - o],
                "opposite_token_id": m.token_ids[1 - o],
                "end_date": iso_date(m.end_date),
                "last_event_at": a["last"] // 1000,
                "first_entry_at": a["first"] // 1000,
                "name": p["name"],
                "profile_image": "",
                "verified": False,
                "_lost": closed and m.winner != o,
                "_widx": widx,
            }
        )
    return out


def select_positions(rows: list[dict], qp) -> list[dict]:
    """The listing's status filter and sort (default: everything not CLOSED, by current value, descending)."""
    status = (qp.get("status") or "").upper()
    if status == "CLOSED":
        rows = [d for d in rows if d["status"] == "CLOSED"]
    elif status == "REDEEMABLE_LOST":
        rows = [d for d in rows if d["status"] == "REDEEMABLE" and d["_lost"]]
    elif status == "MERGEABLE":
        rows = [d for d in rows if d["mergeable"]]
    elif status in ("OPEN", "REDEEMABLE"):
        rows = [d for d in rows if d["status"] == status]
    else:
        rows = [d for d in rows if d["status"] != "CLOSED"]
    key = SORT_KEYS.get(
        (qp.get("sort_by") or "").upper(), "realized_pnl" if status == "CLOSED" else "current_value"
    )
    asc = (qp.get("sort_direction") or "DESC").upper() == "ASC"
    rows.sort(key=lambda d: (d[key], d["token_id"], d["proxy_wallet"]), reverse=not asc)
    return rows


def public(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def position_v1(d: dict) -> dict:
    """The v1 `/positions` row (§3.2, camelCase) of a v2 position row."""
    return {
        "proxyWallet": d["proxy_wallet"],
        "asset": d["token_id"],
        "conditionId": d["condition_id"],
        "size": d["current_size"],
        "avgPrice": d["avg_price"],
        "initialValue": d["entry_cost_usdc"],
        "currentValue": d["current_value"],
        "cashPnl": d["unrealized_pnl"],
        "percentPnl": d["percent_pnl"],
        "totalBought": d["total_size"],
        "realizedPnl": d["realized_pnl"],
        "percentRealizedPnl": d["percent_realized_pnl"],
        "curPrice": d["current_price"],
        "redeemable": d["redeemable"],
        "mergeable": d["mergeable"],
        "title": d["title"],
        "slug": d["slug"],
        "icon": d["icon"],
        "eventId": d["event_id"],
        "eventSlug": d["event_slug"],
        "outcome": d["outcome"],
        "outcomeIndex": d["outcome_index"],
        "oppositeOutcome": d["opposite_outcome"],
        "oppositeAsset": d["opposite_token_id"],
        "endDate": d["end_date"],
        "negativeRisk": d["negative_risk"],
    }


def holders(sim: Sim, cids: list[str], limit: int, min_balance: float = 1.0) -> list[dict]:
    """Top holders per outcome token of each market, largest first (v2 groups: `token_id`, `holders`)."""
    w = sim.world
    out = []
    for c in cids:
        idx = w.by_condition.get(c.lower())
        if idx is None:
            continue
        m = w.markets[idx]
        held = [d for d in positions_from_rows(sim, market_rows(sim, c)) if d["current_size"] >= min_balance]
        for o, tok in enumerate(m.token_ids):
            top = sorted(
                (d for d in held if d["outcome_index"] == o),
                key=lambda d: (d["current_size"], d["proxy_wallet"]),
                reverse=True,
            )[:limit]
            out.append(
                {
                    "token_id": tok,
                    "holders": [
                        {
                            "proxy_wallet": d["proxy_wallet"],
                            "bio": "",
                            "token_id": tok,
                            **profile(sim, d["_widx"]),
                            "amount": d["current_size"],
                            "display_username_public": True,
                            "outcome_index": o,
                            "profile_image": "",
                            "profile_image_optimized": "",
                            "verified": False,
                        }
                        for d in top
                    ],
                }
            )
    return out


def portfolio_value(sim: Sim, addr: str) -> float:
    return round(
        sum(
            d["current_value"]
            for d in positions_from_rows(sim, wallet_rows(sim, addr))
            if d["status"] != "CLOSED"
        ),
        4,
    )
