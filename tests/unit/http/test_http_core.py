"""The shared HTTP core: retries, Retry-After, quarantine of bad payloads, pacing under a budget."""

from __future__ import annotations

import httpx
import pydantic
import pytest

from pm_assets.resources.http import AdaptivePacer, ApiError, EndpointLimit, PayloadError, PolymarketHttp


def _client(handler, **kw) -> PolymarketHttp:
    return PolymarketHttp(
        base_url="http://sim.test",
        limits=[EndpointLimit("/book", 1000)],
        general_limit=10000,
        transport=httpx.MockTransport(handler),
        max_backoff_s=0.01,
        **kw,
    )


async def test_retries_5xx_and_429_then_succeeds_and_counts_them():
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(429, headers={"retry-after": "0"}),
            httpx.Response(200, json=[1]),
        ]
    )

    async with _client(lambda request: next(answers)) as http:
        status, data, _ = await http.request_json("GET", "/book")
    assert (status, data) == (200, [1])
    assert http.stats.server_errors == 1 and http.stats.throttled_429 == 1 and http.stats.retries == 2


async def test_gives_up_after_the_bound_with_the_endpoint_in_the_message():
    async with _client(lambda request: httpx.Response(500), max_attempts=3) as http:
        with pytest.raises(ApiError, match=r"GET /book: gave up after 3 attempts: HTTP 500"):
            await http.request_json("GET", "/book")
    assert http.stats.requests == 3


async def test_final_client_errors_are_returned_not_retried():
    async with _client(lambda request: httpx.Response(404, json={"error": "No orderbook exists"})) as http:
        status, data, _ = await http.request_json("GET", "/book")
    assert status == 404 and data == {"error": "No orderbook exists"} and http.stats.retries == 0


async def test_malformed_json_and_schema_drift_are_quarantined_with_a_named_field():
    kept = []

    def sink(endpoint, params, status, raw, error):
        kept.append((endpoint, raw, error))

    async with _client(lambda request: httpx.Response(200, text='{"price": "0.5"'), quarantine=sink) as http:
        with pytest.raises(PayloadError, match="not valid JSON"):
            await http.request_json("GET", "/book")
    assert kept and kept[0][1] == '{"price": "0.5"'

    class Level(pydantic.BaseModel):
        price: float

    async with _client(
        lambda request: httpx.Response(200, json=[{"price": "0.5"}, {"price": "abc"}]), quarantine=sink
    ) as http:
        status, data, raw = await http.request_json("GET", "/book")
        with pytest.raises(PayloadError, match=r"\[1\]\.price"):
            http.parse("GET /book", pydantic.TypeAdapter(list[Level]), data, raw)
    assert http.stats.quarantined == 1 and "[1].price" in kept[-1][2]


async def test_pacer_holds_requests_beyond_the_window_budget(monkeypatch):
    clock = {"t": 0.0}
    slept = []
    monkeypatch.setattr("pm_assets.resources.http.time.monotonic", lambda: clock["t"])

    async def fake_sleep(seconds):
        slept.append(seconds)
        clock["t"] += seconds

    monkeypatch.setattr("pm_assets.resources.http.asyncio.sleep", fake_sleep)
    pacer = AdaptivePacer([EndpointLimit("/books", 10)], general=1000, headroom=1.0)
    for _ in range(10):
        assert await pacer.acquire("/books") == 0
    waited = await pacer.acquire("/books")
    assert waited == pytest.approx(10.0)
    pacer.slow_down(retry_after_s=5)
    assert pacer.factor == 0.5
    assert await pacer.acquire("/price") == pytest.approx(5.0)


def test_pacer_matches_the_longest_prefix():
    pacer = AdaptivePacer(
        [EndpointLimit("/prices", 500), EndpointLimit("/prices-history", 1000)], general=9000
    )
    assert pacer.key_for("/prices-history") == ("/prices-history", 1000)
    assert pacer.key_for("/prices") == ("/prices", 500)
    assert pacer.key_for("/time") == ("*", 9000)
