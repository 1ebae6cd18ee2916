"""Caps on what an upstream can make us hold or wait for: HTTP bodies, Retry-After, websocket frames."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets
from websockets.asyncio.server import serve

from pm_assets.resources.http import (
    MAX_BODY_BYTES,
    MAX_RETRY_AFTER_S,
    ApiError,
    EndpointLimit,
    PolymarketHttp,
)
from pm_sensors.stream.connection import MarketChannel
from pm_sensors.stream.settings import StreamSettings


def _client(handler, **kw) -> PolymarketHttp:
    return PolymarketHttp(
        base_url="http://sim.test",
        limits=[EndpointLimit("/book", 1000)],
        general_limit=10000,
        transport=httpx.MockTransport(handler),
        **kw,
    )


async def test_a_huge_retry_after_pauses_for_the_cap_not_for_days(monkeypatch):
    clock = {"t": 1000.0}
    slept: list[float] = []

    async def fake_sleep(seconds):
        slept.append(seconds)
        clock["t"] += seconds

    monkeypatch.setattr("pm_assets.resources.http.time.monotonic", lambda: clock["t"])
    monkeypatch.setattr("pm_assets.resources.http.asyncio.sleep", fake_sleep)
    answers = iter([httpx.Response(429, headers={"retry-after": "86400000"}), httpx.Response(200, json=[1])])
    async with _client(lambda request: next(answers)) as http:
        status, data, _ = await http.request_json("GET", "/book")
        assert (status, data) == (200, [1])
        # The pacer's pause for every later request is capped too.
        assert await http._pacer.acquire("/book") <= MAX_RETRY_AFTER_S  # type: ignore[union-attr]
    assert slept and max(slept) <= MAX_RETRY_AFTER_S + 1.0  # + jitter


async def test_a_body_past_the_cap_is_refused_without_reading_it_all():
    pulled = 0
    chunk = b"[" + b"1," * (64 * 1024) + b"1]"

    async def endless():
        nonlocal pulled
        while True:
            pulled += 1
            yield chunk

    async with _client(lambda request: httpx.Response(200, content=endless())) as http:
        with pytest.raises(ApiError, match="response body too large"):
            await http.request_json("GET", "/book")
    assert pulled <= MAX_BODY_BYTES // len(chunk) + 2


async def test_a_declared_length_past_the_cap_is_refused_before_reading():
    def handler(request):
        return httpx.Response(200, headers={"content-length": str(MAX_BODY_BYTES + 1)}, content=b"[]")

    async with _client(handler) as http:
        with pytest.raises(ApiError, match="response body too large"):
            await http.request_json("GET", "/book")


async def test_a_websocket_frame_past_the_cap_closes_the_connection():
    huge = "x" * (StreamSettings().max_frame_bytes + 1)

    async def handler(ws):
        await ws.recv()  # the subscribe message
        await ws.send(huge)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        settings = StreamSettings(ws_url=f"ws://127.0.0.1:{port}")
        channel = await MarketChannel.open(settings, ["1"])
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            async for _frame in channel.frames(asyncio.Event()):
                pytest.fail("a frame past the cap was delivered")
        assert closed.value.rcvd is None and closed.value.sent.code == 1009
        await channel.close()
