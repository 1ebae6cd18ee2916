"""Rate limits throttle by delay (Cloudflare style) on the documented per-endpoint windows."""

from __future__ import annotations

import pm_sim.ratelimit as rl


async def test_throttles_by_delay(monkeypatch):
    monkeypatch.setattr(rl, "WINDOW", 0.05)
    lim = rl.RateLimiter(scale=1 / 1500)  # /clob/book: 1500 per window -> 1
    assert lim.bucket("/clob/book") == ("/clob/book", 1500)
    assert lim.bucket("/clob/books") == ("/clob/books", 500)
    assert lim.bucket("/data/v2/trades") == ("/data/v2/trades", 300)
    assert await lim.acquire("/clob/book") == 0
    assert await lim.acquire("/clob/book") > 0  # delayed, never rejected
