"""CLOB websocket market channel (/ws/market).

Each connection remembers the levels it last sent per asset; every tick it diffs them against the
book at the current clock (books.levels), so a client applying the price_change deltas holds exactly
what REST /book serves at that clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from bisect import bisect_left

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from .books import levels, tick_str, token_epoch
from .fmt import num_str
from .rng import u01
from .sim import Sim
from .trades import CHUNK, tx_hash

TICK = 0.05  # real seconds between stream steps


class Hub:
    def __init__(self, sim: Sim):
        self.sim = sim
        self.conns: dict[int, Conn] = {}
        self._next = 0

    def state(self) -> list[dict]:
        return [
            {"id": c.id, "assets": len(c.assets), "synced_to": c.synced_to, "sent": c.sent}
            for c in self.conns.values()
        ]

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        self._next += 1
        conn = Conn(self, ws, self._next)
        self.conns[conn.id] = conn
        try:
            await conn.run()
        finally:
            self.conns.pop(conn.id, None)


class Conn:
    def __init__(self, hub: Hub, ws: WebSocket, cid: int):
        self.hub, self.sim, self.ws, self.id = hub, hub.sim, ws, cid
        self.assets: set[str] = set()
        self.custom = False
        self.state: dict[str, tuple] = {}  # asset -> (tick, bids map, asks map)
        self.epochs: dict[tuple[int, int], int] = {}  # (market, outcome) -> epoch last sent
        self.trade_mark: dict[int, tuple] = {}  # market -> last trade key sent
        self.ops: asyncio.Queue = asyncio.Queue()
        self.last_ping = time.monotonic()
        self.opened = time.monotonic()
        self.synced_to = 0.0
        self.sent = 0
        self.held: str | None = None
        self.last_clock = self.sim.now()
        self.closed = False

    # -------------------------------------------------------------- io
    async def send(self, obj) -> None:
        f = self.sim.faults
        frame = orjson.dumps(obj).decode()
        n = self.sent
        self.sent += 1
        self.sim.served["ws_messages"] += 1
        if f.on("ws_reorder") and self.held is None and u01(7, self.id, n) < float(f.get("ws_reorder")):
            self.held = frame  # out of order: goes after the next frame
            return
        await self.ws.send_text(frame)
        if f.on("ws_dup") and u01(8, self.id, n) < float(f.get("ws_dup")):
            await self.ws.send_text(frame)
        if self.held is not None:
            held, self.held = self.held, None
            await self.ws.send_text(held)

    def stalled(self) -> bool:
        f = self.sim.faults
        return f.on("ws_stall") and time.monotonic() - self.opened > float(f.get("ws_stall"))

    async def reader(self) -> None:
        try:
            while True:
                msg = await self.ws.receive_text()
                if msg.strip().upper() == "PING":
                    self.last_ping = time.monotonic()
                    if not (self.stalled() and self.sim.faults.on("ws_stall_pong")):
                        await self.ws.send_text("PONG")
                    continue
                try:
                    obj = orjson.loads(msg)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(obj, dict):
                    self.last_ping = time.monotonic()
                    await self.ops.put(obj)
        except (WebSocketDisconnect, RuntimeError):
            self.closed = True

    async def run(self) -> None:
        rd = asyncio.create_task(self.reader())
        idle = self.sim.cfg.ws_idle_timeout
        try:
            spent = 0.0
            while not self.closed:
                # A fixed cadence: a slow step shortens the next wait instead of adding to it.
                await asyncio.sleep(max(0.0, TICK - spent))
                now_real = time.monotonic()
                if now_real - self.last_ping > idle:
                    await self.ws.close(code=1000)
                    return
                drop = self.sim.faults.get("ws_drop")
                if drop and now_real - self.opened > float(drop):
                    await self.ws.close(code=1011)
                    return
                if self.stalled():
                    spent = 0.0
                    continue
                await self.step()
                spent = time.monotonic() - now_real
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            return
        finally:
            rd.cancel()

    # -------------------------------------------------------------- stream
    async def step(self) -> None:
        sim = self.sim
        t = sim.now()
        while not self.ops.empty():
            await self.apply(self.ops.get_nowait(), t)
        if self.custom:
            await self.new_markets(self.last_clock, t)
        markets = sorted({sim.world.by_token[a][0] for a in self.assets})
        for mi in markets:
            # Each market at the clock it is sent at (as upstream stamps each message), not the step's start:
            # a step over a few hundred markets takes tens of ms.
            await self.update_market(mi, max(t, sim.now()))
        self.last_clock = t
        self.synced_to = t

    async def apply(self, obj: dict, t: float) -> None:
        ids = [str(a) for a in obj.get("assets_ids") or obj.get("asset_ids") or []]
        if obj.get("custom_feature_enabled") is not None:
            self.custom = bool(obj.get("custom_feature_enabled"))
        op = obj.get("operation", "subscribe")
        if op == "unsubscribe":
            for a in ids:
                self.assets.discard(a)
                self.state.pop(a, None)
            return
        new = [a for a in ids if a in self.sim.world.by_token and a not in self.assets]
        snaps = []
        for a in new:
            m, o = self.sim.token(a)
            if not self.sim.book_available(m, t):
                continue
            self.assets.add(a)
            self.epochs[(m.idx, o)] = token_epoch(m, o, t)
            self.trade_mark.setdefault(m.idx, (int(t * 1000), 1 << 40, 1 << 40))
            tick, bids, asks = levels(self.sim.world, m, o, token_epoch(m, o, t))
            self.state[a] = (tick, bids, asks)
            snaps.append(self.sim.book(m, o, t, ws=True))
        if snaps and obj.get("initial_dump", True):
            await self.send(snaps)  # the initial books come as ONE array frame

    async def update_market(self, mi: int, t: float) -> None:
        sim = self.sim
        m = sim.world.markets[mi]
        mine = [(o, a) for o, a in enumerate(m.token_ids) if a in self.assets]
        ts = str(int(t * 1000))
        traded = await self.trades(m, t, mine)
        if t >= m.close_time:
            if self.custom:
                win = m.token_ids[m.winner]
                await self.send(
                    {
                        **self.market_fields(m),
                        "winning_asset_id": win,
                        "winning_outcome": m.outcomes[m.winner],
                        "event_message": self.event_msg(m),
                        "timestamp": ts,
                        "event_type": "market_resolved",
                        "tags": [m.tag[1]],
                    }
                )
            for _, a in mine:
                self.assets.discard(a)
                self.state.pop(a, None)
            return
        booked: set[int] = set()
        for o, a in mine:
            # Each token on its own update times (the second one lags): their deltas arrive at different moments.
            e = token_epoch(m, o, t)
            if self.epochs.get((mi, o)) != e:
                self.epochs[(mi, o)] = e
                booked |= await self.diff(m, [(o, a)], e, t, ts)
        for o, _ in mine:
            if o in traded and o not in booked:
                # Upstream "every trade triggers a fresh book" (§4.5): its last_trade_price and hash moved.
                await self.send(sim.book(m, o, t, ws=True))

    async def diff(self, m, mine: list, e: int, t: float, ts: str) -> set[int]:
        """price_change (and tick_size_change + book) frames from the last levels sent to epoch e's (the epoch
        each token in `mine` shows now)."""
        sim = self.sim
        booked = set()
        changes = []
        for o, a in mine:
            tick, nb, na = levels(sim.world, m, o, e)
            otick, ob, oa = self.state[a]
            if tick != otick:
                await self.send(
                    {
                        "event_type": "tick_size_change",
                        "asset_id": a,
                        "market": m.condition_id,
                        "old_tick_size": tick_str(otick),
                        "new_tick_size": tick_str(tick),
                        "timestamp": ts,
                    }
                )
                self.state[a] = (tick, nb, na)
                await self.send(sim.book(m, o, t, ws=True))
                booked.add(o)
                continue
            bb, ba = _top(nb, True), _top(na, False)
            for side, old, new in (("BUY", ob, nb), ("SELL", oa, na)):
                for p in sorted(set(old) | set(new)):
                    if old.get(p) != new.get(p):
                        size = new.get(p, "0")
                        hh = hashlib.sha1(f"{a}{p}{size}{side}{ts}".encode()).hexdigest()  # noqa: S324
                        changes.append(
                            {
                                "asset_id": a,
                                "price": p,
                                "size": size,
                                "side": side,
                                "hash": hh,
                                "best_bid": bb,
                                "best_ask": ba,
                            }
                        )
            if self.custom and (_top(ob, True), _top(oa, False)) != (bb, ba):
                await self.send(
                    {
                        "event_type": "best_bid_ask",
                        "market": m.condition_id,
                        "asset_id": a,
                        "best_bid": bb,
                        "best_ask": ba,
                        "spread": num_str(float(ba) - float(bb), 4),
                        "timestamp": ts,
                    }
                )
            self.state[a] = (tick, nb, na)
        if changes:
            await self.send(
                {
                    "market": m.condition_id,
                    "price_changes": changes,
                    "timestamp": ts,
                    "event_type": "price_change",
                }
            )
        return booked

    async def trades(self, m, t: float, mine: list) -> set[int]:
        """last_trade_price frames for the fills since the last step; returns the outcomes that traded."""
        sim = self.sim
        mark = self.trade_mark.get(m.idx)
        if mark is None or not mine:
            return set()
        now_ms = int(t * 1000)
        outs = {o for o, _ in mine}
        c0 = sim.flow.bucket(mark[0] / 1000) // CHUNK
        c1 = sim.flow.bucket(t) // CHUNK
        new = [r for c in range(c0, c1 + 1) for r in _newer(sim.flow.market_chunk(m.idx, c), mark, now_ms)]
        new.sort(key=lambda r: (r[0], r[1], r[2]))
        self.trade_mark[m.idx] = (now_ms, 1 << 40, 1 << 40)
        fs = m.fee_schedule
        traded = {r[5] for r in new if r[5] in outs}
        for r in new[-200:]:  # a frozen-then-jumped clock would otherwise flood the socket
            if r[5] not in outs:
                continue
            await self.send(
                {
                    "asset_id": m.token_ids[r[5]],
                    "event_type": "last_trade_price",
                    "fee_rate_bps": str(int(fs["rate"] * 10000)) if fs else "0",
                    "market": m.condition_id,
                    "price": num_str(r[7], 4),
                    "side": "BUY" if r[4] == 0 else "SELL",
                    "size": num_str(r[6]),
                    "timestamp": str(r[0]),
                    "transaction_hash": tx_hash(sim.cfg.seed, r[8]),
                }
            )
        return traded

    @staticmethod
    def market_fields(m) -> dict:
        """The market's description, as both new_market and market_resolved carry it (first, in this order)."""
        return {
            "id": m.id,
            "question": m.question,
            "market": m.condition_id,
            "slug": m.slug,
            "description": m.question,
            "assets_ids": list(m.token_ids),
            "outcomes": list(m.outcomes),
        }

    def event_msg(self, m) -> dict:
        ev = self.sim.world.events[m.event_idx]
        return {"id": ev.id, "ticker": ev.slug, "slug": ev.slug, "title": ev.title, "description": ev.title}

    async def new_markets(self, t0: float, t1: float) -> None:
        for m in self.sim.world.markets:
            if t0 < m.created_at <= t1:
                fs = m.fee_schedule or {"exponent": 0, "rate": 0, "takerOnly": True, "rebateRate": 0}
                await self.send(
                    {
                        **self.market_fields(m),
                        "event_message": self.event_msg(m),
                        "timestamp": str(int(t1 * 1000)),
                        "event_type": "new_market",
                        "tags": [m.tag[1].lower()],
                        "condition_id": m.condition_id,
                        "active": True,
                        "clob_token_ids": list(m.token_ids),
                        "sports_market_type": "",
                        "line": "",
                        "game_start_time": "",
                        "order_price_min_tick_size": tick_str(m.tick),
                        "group_item_title": "",
                        "taker_base_fee": "1000" if m.fee_schedule else "0",
                        "fees_enabled": bool(m.fee_schedule),
                        "fee_schedule": {
                            "exponent": str(fs["exponent"]),
                            "rate": str(fs["rate"]),
                            "taker_only": fs["takerOnly"],
                            "rebate_rate": str(fs["rebateRate"]),
                        },
                    }
                )


def _newer(rows: list[tuple], mark: tuple, now_ms: int) -> list[tuple]:
    """Rows (newest first, by (ts, market, j)) with a key after `mark` and ts <= now_ms, by bisection: a chunk
    holds ~1,000+ rows per market and a step only wants the few since the last one."""
    lo = bisect_left(rows, -now_ms, key=lambda r: -r[0])
    hi = bisect_left(rows, (-mark[0], -mark[1], -mark[2]), key=lambda r: (-r[0], -r[1], -r[2]))
    return rows[lo:hi]


def _top(side: dict[str, str], bid: bool) -> str:
    if not side:
        return "0" if bid else "1"
    return (max if bid else min)(side, key=float)
