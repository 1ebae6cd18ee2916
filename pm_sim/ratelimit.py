"""Per-endpoint 10 s sliding windows (polymarket-api.md §5 and L.5), enforced as upstream does:
by delaying the request until the window has room (Cloudflare throttling), not by rejecting."""

from __future__ import annotations

import asyncio
import time
from collections import deque

WINDOW = 10.0
# (api prefix, path prefix or "" for the API's general bucket, limit per 10 s); first match wins.
LIMITS = (
    ("/clob", "/books", 500),
    ("/clob", "/book", 1500),
    ("/clob", "/prices-history", 1000),
    ("/clob", "/prices", 500),
    ("/clob", "/price", 1500),
    ("/clob", "/midpoints", 500),
    ("/clob", "/midpoint", 1500),
    ("/clob", "/tick-size", 200),
    ("/clob", "/ok", 100),
    ("/clob", "", 9000),
    ("/gamma", "/events", 500),
    ("/gamma", "/markets", 300),
    ("/gamma", "", 4000),
    ("/data", "/v2/trades", 300),
    ("/data", "/v2/positions", 200),
    ("/data", "/v2/activity", 200),
    ("/data", "/v2/prices-history", 200),
    ("/data", "/v2/", 800),
    ("/data", "/trades", 200),
    ("/data", "/positions", 150),
    ("/data", "/closed-positions", 150),
    ("/data", "", 1000),
)
GENERAL = 15000


class RateLimiter:
    def __init__(self, scale: float = 1.0):
        self.scale = scale  # tests may shrink the limits
        self.hits: dict[str, deque] = {}

    def bucket(self, path: str) -> tuple[str, int] | None:
        for api, sub, lim in LIMITS:
            if path.startswith(api) and path[len(api) :].startswith(sub):
                return api + sub, lim
        return None

    async def acquire(self, path: str) -> float:
        """Wait for room in this path's window and the global one; returns the delay applied."""
        waited = 0.0
        keys = [("*", GENERAL)]
        b = self.bucket(path)
        if b:
            keys.append(b)
        for key, lim in keys:
            lim = max(1, int(lim * self.scale))
            q = self.hits.setdefault(key, deque())
            while True:
                now = time.monotonic()
                while q and now - q[0] > WINDOW:
                    q.popleft()
                if len(q) < lim:
                    q.append(now)
                    break
                delay = WINDOW - (now - q[0]) + 0.001
                waited += delay
                await asyncio.sleep(delay)
        return waited
