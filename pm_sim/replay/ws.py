"""The websocket market channel from a recording: recorded frames, sent as the replay clock passes them.

A socket subscribes as upstream (`{"assets_ids": [...], "type": "market"}`, `operation` subscribe/unsubscribe,
`custom_feature_enabled`). On subscribe it gets, as one array frame, the newest recorded `book` of each new
asset, then the recorded frames about those assets since that book (so its books are current), then every
recorded frame about its assets as the clock passes the time the frame was received, text unchanged.
`new_market`, `market_resolved` and `best_bid_ask` go only to sockets with `custom_feature_enabled`.
"""

from __future__ import annotations

import asyncio
import time

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from pm_sim.clock import Clock
from pm_sim.replay.store import Frame, ReplayStore

TICK = 0.05  # real seconds between stream steps


class ReplayHub:
    def __init__(self, store: ReplayStore, clock: Clock, idle_timeout: float = 10.0):
        self.store, self.clock, self.idle_timeout = store, clock, idle_timeout
        self.conns: dict[int, ReplayConn] = {}
        self._next = 0
        self.sent = 0

    def state(self) -> list[dict]:
        return [
            {"id": c.id, "assets": len(c.assets), "synced_to": c.synced_to, "sent": c.sent}
            for c in self.conns.values()
        ]

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        self._next += 1
        conn = ReplayConn(self, ws, self._next)
        self.conns[conn.id] = conn
        try:
            await conn.run()
        finally:
            self.conns.pop(conn.id, None)


class ReplayConn:
    def __init__(self, hub: ReplayHub, ws: WebSocket, cid: int):
        self.hub, self.store, self.ws, self.id = hub, hub.store, ws, cid
        self.assets: set[str] = set()
        self.custom = False
        self.ops: asyncio.Queue = asyncio.Queue()
        self.last_ping = time.monotonic()
        self.synced_to = hub.clock.now()
        self.sent = 0
        self.closed = False

    async def send_text(self, text: str) -> None:
        self.sent += 1
        self.hub.sent += 1
        await self.ws.send_text(text)

    async def reader(self) -> None:
        try:
            while True:
                msg = await self.ws.receive_text()
                self.last_ping = time.monotonic()
                if msg.strip().upper() == "PING":
                    await self.ws.send_text("PONG")
                    continue
                try:
                    obj = orjson.loads(msg)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(obj, dict):
                    await self.ops.put(obj)
        except (WebSocketDisconnect, RuntimeError):
            self.closed = True

    async def run(self) -> None:
        rd = asyncio.create_task(self.reader())
        try:
            while not self.closed:
                await asyncio.sleep(TICK)
                if time.monotonic() - self.last_ping > self.hub.idle_timeout:
                    await self.ws.close(code=1000)
                    return
                await self.step()
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            return
        finally:
            rd.cancel()

    async def step(self) -> None:
        t = self.hub.clock.now()
        while not self.ops.empty():
            await self.apply(self.ops.get_nowait())
        if t > self.synced_to:
            for frame in self.store.frames_between(self.synced_to, t):
                if self.wants(frame):
                    await self.send_text(frame.text)
        self.synced_to = max(self.synced_to, t)

    def wants(self, frame: Frame) -> bool:
        if frame.custom_only and not self.custom:
            return False
        return frame.broadcast or bool(frame.assets & self.assets)

    async def apply(self, obj: dict) -> None:
        ids = [str(a) for a in obj.get("assets_ids") or obj.get("asset_ids") or []]
        if obj.get("custom_feature_enabled") is not None:
            self.custom = bool(obj.get("custom_feature_enabled"))
        if obj.get("operation", "subscribe") == "unsubscribe":
            self.assets.difference_update(ids)
            return
        new = [a for a in dict.fromkeys(ids) if a not in self.assets]
        self.assets.update(new)
        # The socket has streamed up to synced_to; the step after this streams (synced_to, t] for every asset,
        # the new ones included, so their snapshot and catch-up stop at synced_to (no frame twice).
        t = self.synced_to
        books = [(a, self.store.latest_ws_book(a, t)) for a in new]
        snaps = [b for _, b in books if b is not None]
        if snaps and obj.get("initial_dump", True):
            await self.send_text(orjson.dumps([book for _, book in snaps]).decode())
        # Bring the new books up to the clock: what happened to them since their snapshot, in order.
        since = {a: b[0] for a, b in books if b is not None}
        if since:
            newset = frozenset(since)
            for frame in self.store.frames_between(min(since.values()), t):
                if frame.assets & newset and self.wants(frame) and not _is_snapshot_of(frame, since):
                    await self.send_text(frame.text)


def _is_snapshot_of(frame: Frame, since: dict[str, float]) -> bool:
    """The snapshot frame the initial dump already stood for (same asset, same receive time)."""
    return len(frame.assets) == 1 and since.get(next(iter(frame.assets))) == frame.received_at
