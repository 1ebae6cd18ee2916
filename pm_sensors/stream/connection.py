"""One websocket session on the market channel: subscribe in batches, keep it alive, notice when it goes quiet.

The protocol-level heartbeat is the text `PING` answered by text `PONG` (polymarket-api.md §4.2). Polymarket asks
for one every 10 s and drops a socket after ~10 s without; it is sent every `ping_interval_s` (5 s by default) so
that a late loop turn never lets that limit cut a healthy socket. Websockets' own control-frame pings are switched off. A socket can stay open while data stops for minutes
(§4.5, py-clob-client#292), so the session raises `StallDetected` after `stall_timeout_s` without data or
`pong_timeout_s` without a PONG, and the consumer reconnects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from .selection import subscription_batches
from .settings import StreamSettings


class StallDetected(Exception):
    """The socket is open but silent (no data or no PONG for too long)."""


class MarketChannel:
    """A connected session. Iterate `frames()` for raw text frames; PONGs are consumed here."""

    def __init__(self, ws: ClientConnection, settings: StreamSettings):
        self.ws = ws
        self.settings = settings
        self.last_data = time.monotonic()
        self.last_pong = time.monotonic()
        self._awaiting_pong_since: float | None = None
        self._next_ping = time.monotonic() + settings.ping_interval_s
        self._ops: asyncio.Queue[bytes] = asyncio.Queue()
        self.watching: set[str] = set()

    @classmethod
    async def open(cls, settings: StreamSettings, tokens: list[str]) -> MarketChannel:
        ws = await websockets.connect(
            settings.ws_url,
            ping_interval=None,
            max_size=settings.max_frame_bytes,
            compression=None,
            proxy=None,
            open_timeout=10,
            close_timeout=2,
            max_queue=4096,
        )
        channel = cls(ws, settings)
        await channel.subscribe_initial(tokens)
        return channel

    async def subscribe_initial(self, tokens: list[str]) -> None:
        self.watching = set(tokens)
        batches = subscription_batches(tokens, self.settings.subscribe_batch) or [[]]
        # The first message must come at once: the server closes idle unsubscribed sockets (§4.1).
        await self.ws.send(
            orjson.dumps(
                {
                    "assets_ids": batches[0],
                    "type": "market",
                    "initial_dump": True,
                    "custom_feature_enabled": True,
                }
            ).decode()
        )
        for batch in batches[1:]:
            await self.ws.send(_op("subscribe", batch))

    def subscribe(self, tokens: list[str]) -> None:
        """Queue a dynamic subscription (sent from the frame loop, no reconnect)."""
        if not self.watching:
            self.last_data = time.monotonic()  # silence so far was expected, not a stall
        self.watching.update(tokens)
        for batch in subscription_batches(tokens, self.settings.subscribe_batch):
            self._ops.put_nowait(_op("subscribe", batch).encode())

    def unsubscribe(self, tokens: list[str]) -> None:
        self.watching.difference_update(tokens)
        for batch in subscription_batches(tokens, self.settings.subscribe_batch):
            self._ops.put_nowait(_op("unsubscribe", batch).encode())

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), timeout=2)
        except (TimeoutError, OSError, websockets.WebSocketException):
            pass

    async def frames(self, stop: asyncio.Event) -> AsyncIterator[str | bytes]:
        """Data frames until `stop`; raises StallDetected, or websockets' ConnectionClosed on a dropped socket."""
        s = self.settings
        while not stop.is_set():
            now = time.monotonic()
            while not self._ops.empty():
                await self.ws.send(self._ops.get_nowait().decode())
            if now >= self._next_ping:
                await self.ws.send("PING")
                if self._awaiting_pong_since is None:
                    self._awaiting_pong_since = now
                self._next_ping = now + s.ping_interval_s
            if self._awaiting_pong_since is not None and now - self._awaiting_pong_since > s.pong_timeout_s:
                raise StallDetected(f"no PONG for {now - self._awaiting_pong_since:.1f}s")
            if not self.watching:
                self.last_data = now  # nothing subscribed: silence is expected
            elif now - self.last_data > s.stall_timeout_s:
                raise StallDetected(f"no data for {now - self.last_data:.1f}s")
            deadline = min(self._next_ping, self.last_data + s.stall_timeout_s, now + 0.5)
            if self._awaiting_pong_since is not None:
                deadline = min(deadline, self._awaiting_pong_since + s.pong_timeout_s)
            try:
                raw = await asyncio.wait_for(self.ws.recv(), timeout=max(deadline - now, 0.005))
            except TimeoutError:
                continue
            if raw == "PONG" or raw == b"PONG":
                self._awaiting_pong_since = None
                self.last_pong = time.monotonic()
                continue
            self.last_data = time.monotonic()
            yield raw


def _op(operation: str, tokens: list[str]) -> str:
    body: dict = {"operation": operation, "assets_ids": tokens}
    if operation == "subscribe":
        body["custom_feature_enabled"] = True
    return orjson.dumps(body).decode()
