"""Order books as a pure function of (market, book epoch).

A market's book changes only when its epoch (floor(t / period + phase)) ticks, so REST /book at
time t and the websocket stream (diffs between consecutive epochs) describe the very same state. The two
tokens' books are mirrors of one book, but the second token shows each epoch `sibling_lag` seconds later
(token_epoch), as real snapshots of a market's two tokens arrive at different moments.
"""

from __future__ import annotations

import math
from functools import lru_cache

from .book_hash import book_hash
from .fmt import num_str, price_str
from .rng import u01
from .world import Market, World

Ladder = list[tuple[int, float]]  # (price index in ticks, size), best first
# The ladder draws (level present, size offset, size generation) repeat epoch after epoch: memoised, they stop
# dominating the websocket step at a few thousand messages/s.
_u01 = lru_cache(maxsize=1 << 18)(u01)


def epoch(m: Market, t: float) -> int:
    return math.floor(t / m.book_period + m.book_phase)


def epoch_time(m: Market, e: int) -> float:
    return (e - m.book_phase) * m.book_period


def token_epoch(m: Market, outcome: int, t: float) -> int:
    """The (first token's) epoch whose book the token shows at t: the second token shows each update
    m.sibling_lag seconds later, so for that long after every update the two books are not yet mirrors."""
    return epoch(m, t - m.sibling_lag) if outcome else epoch(m, t)


def token_update_time(m: Market, outcome: int, e: int) -> float:
    """When the token starts showing epoch e's book."""
    return epoch_time(m, e) + (m.sibling_lag if outcome else 0.0)


def nticks(tick: float) -> int:
    return round(1 / tick)


def tick_str(tick: float) -> str:
    return {0.01: "0.01", 0.001: "0.001", 0.0025: "0.0025"}[tick]


def yes_tops(world: World, m: Market, t: float, tick: float) -> tuple[int, int]:
    """Best bid / best ask of outcome 0, in ticks (shared with trade pricing)."""
    n = nticks(tick)
    pin = _pinned(world, m, t)
    if pin is not None:
        ba = pin
        return max(1, ba - m.spread_ticks), ba
    mid = round(world.price(m, t) * n)
    k = m.spread_ticks
    bb = min(max(mid - (k + 1) // 2, 1), n - 2)
    ba = min(max(bb + k, bb + 1), n - 1)
    return bb, ba


def _pinned(world: World, m: Market, t: float) -> int | None:
    for w in world.arb_windows.get(m.idx, ()):
        if w["mode"] == "negrisk" and w["start"] <= t < w["end"]:
            return w["pins"][m.idx]
    return None


def _arb(world: World, m: Market, t: float) -> dict | None:
    for w in world.arb_windows.get(m.idx, ()):
        if w["start"] <= t < w["end"]:
            return w
    return None


def _size(world: World, m: Market, level: int, side: int, e: int) -> float:
    # Each level's size lives for several epochs (staggered), so an update touches few levels.
    gen = (e + int(_u01(world.seed, 81, m.idx, level, side) * 7)) // 7
    return _size_of_generation(world.seed, m.idx, level, side, gen)


@lru_cache(maxsize=1 << 18)
def _size_of_generation(seed: int, idx: int, level: int, side: int, gen: int) -> float:
    z = u01(seed, 82, idx, level, side, gen)
    return round(5 + math.exp(2.5 + 3.0 * z * z), 2)


def yes_ladders(world: World, m: Market, e: int) -> tuple[float, Ladder, Ladder]:
    # Memoised per world: both outcomes of a market (and every ws connection) read the same epoch's ladder.
    memo = world.__dict__.setdefault("_yes_ladders_memo", {})
    hit = memo.get((m.idx, e))
    if hit is None:
        if len(memo) > 20_000:
            memo.clear()
        hit = memo[(m.idx, e)] = _yes_ladders(world, m, e)
    return hit[0], list(hit[1]), list(hit[2])


def _yes_ladders(world: World, m: Market, e: int) -> tuple[float, Ladder, Ladder]:
    t = epoch_time(m, e)
    tick = world.tick_at(m, t)
    n = nticks(tick)
    if m.ghost:
        return tick, [(1, 1.5)], [(n - 1, 2.0)]
    bb, ba = yes_tops(world, m, t, tick)
    bids: Ladder = [(bb, _size(world, m, bb, 0, e))]
    lv = bb - 1
    while lv >= 1 and len(bids) < m.depth:
        if _u01(world.seed, 80, m.idx, lv, 0) < 0.75:
            bids.append((lv, _size(world, m, lv, 0, e)))
        lv -= 1
    asks: Ladder = [(ba, _size(world, m, ba, 1, e))]
    lv = ba + 1
    while lv <= n - 1 and len(asks) < m.depth:
        if _u01(world.seed, 80, m.idx, lv, 1) < 0.75:
            asks.append((lv, _size(world, m, lv, 1, e)))
        lv += 1
    arb = _arb(world, m, t)
    if arb is not None:
        asks[0] = (asks[0][0], float(arb["fillable_size"]))
    return tick, bids, asks


def ladders(world: World, m: Market, outcome: int, e: int) -> tuple[float, Ladder, Ladder]:
    tick, bids, asks = yes_ladders(world, m, e)
    if outcome == 0:
        return tick, bids, asks
    n = nticks(tick)
    shift = 0
    arb = _arb(world, m, epoch_time(m, e))
    if arb is not None and arb["mode"] == "binary":
        # Break the mirror: NO quotes sit low enough that YES ask + NO ask = 1 - edge.
        shift = (asks[0][0] - bids[0][0]) + arb["edge_ticks"]
    nb = [(n - p - shift, s) for p, s in asks if n - p - shift >= 1]
    na = [(n - p - shift, s) for p, s in bids if n - p - shift >= 1]
    if arb is not None and arb["mode"] == "binary" and na:
        na[0] = (na[0][0], float(arb["fillable_size"]))
    return tick, nb, na


def levels(world: World, m: Market, outcome: int, e: int) -> tuple[float, dict[str, str], dict[str, str]]:
    """Book as {price_str: size_str} maps (for ws diffs)."""
    tick, bids, asks = ladders(world, m, outcome, e)
    return (
        tick,
        {_price_text(p, tick): _size_text(s) for p, s in bids},
        {_price_text(p, tick): _size_text(s) for p, s in asks},
    )


# Every websocket step formats every level of every changed book; prices and sizes repeat across epochs.
_price_text = lru_cache(maxsize=1 << 16)(price_str)
_size_text = lru_cache(maxsize=1 << 16)(num_str)


def book_dict(world: World, m: Market, outcome: int, t: float, ltp: str, ws: bool = False) -> dict:
    e = token_epoch(m, outcome, t)
    tick, bids, asks = ladders(world, m, outcome, e)
    # Upstream order: bids ascending, asks descending (best last).
    b = [{"price": price_str(p, tick), "size": num_str(s)} for p, s in reversed(bids)]
    a = [{"price": price_str(p, tick), "size": num_str(s)} for p, s in reversed(asks)]
    return assemble(m, m.token_ids[outcome], int(t * 1000), b, a, tick_str(tick), ltp, ws)


def assemble(
    m: Market, asset: str, ts_ms: int, bids: list, asks: list, tick: str, ltp: str, ws: bool
) -> dict:
    rest = {
        "market": m.condition_id,
        "asset_id": asset,
        "timestamp": str(ts_ms),
        "hash": "",
        "bids": bids,
        "asks": asks,
        "min_order_size": "5",
        "tick_size": tick,
        "neg_risk": m.neg_risk,
        "last_trade_price": ltp,
    }
    if m.version == "v2":
        rest["version"] = "v2"
    rest["hash"] = book_hash(rest)
    if not ws:
        return rest
    out = {
        "market": m.condition_id,
        "asset_id": asset,
        "timestamp": rest["timestamp"],
        "hash": rest["hash"],
        "bids": bids,
        "asks": asks,
        "tick_size": tick,
        "event_type": "book",
        "last_trade_price": ltp,
    }
    if m.version == "v2":
        out["version"] = "v2"
    return out


def best(world: World, m: Market, outcome: int, t: float) -> tuple[float, float | None, float | None]:
    """(tick, best bid, best ask) as floats; None for an empty side."""
    tick, bids, asks = ladders(world, m, outcome, token_epoch(m, outcome, t))
    return (tick, bids[0][0] * tick if bids else None, asks[0][0] * tick if asks else None)
