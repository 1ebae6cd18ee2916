"""The Data API client on hand-made answers: cursor walks, garbage named by endpoint and field, v1 fallback."""

from __future__ import annotations

import json

import httpx
import pytest

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.http import ApiError
from tests.conftest import FIXTURES_DIR

V2 = json.loads((FIXTURES_DIR / "data_api_v2_trades_by_condition_2026-10-05.json").read_text())
V1 = json.loads((FIXTURES_DIR / "data_api_v1_trades_2026-03-22.json").read_text())


async def _collect(client: DataApiClient, handler, **kw) -> tuple[list, object]:
    kept = []
    async with client.session(
        quarantine=lambda *a: kept.append(a), transport=httpx.MockTransport(handler)
    ) as s:
        pages = [rows async for rows in s.trade_pages(**kw)]
    return pages, (s, kept)


async def test_follows_the_cursor_unchanged_until_null_and_drops_limit_once_sent():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        if "cursor" not in request.url.params:
            return httpx.Response(200, json=V2)
        return httpx.Response(200, json={"data": [], "pagination": {"has_more": False, "next_cursor": None}})

    pages, _ = await _collect(
        DataApiClient(base_url="http://sim.test"), handler, conditions=["0x" + "a" * 64]
    )
    assert [len(p.rows) for p in pages] == [2, 0]
    assert seen[1]["cursor"] == V2["pagination"]["next_cursor"]
    assert seen[0]["taker_only"] == "true" and seen[0]["condition"] == "0x" + "a" * 64


async def test_a_bad_row_is_rejected_alone_naming_endpoint_and_field_and_its_page_goes_on():
    bad = json.loads(json.dumps(V2))
    bad["data"][0]["price"] = "lots"
    bad["pagination"]["next_cursor"] = None

    pages, (session, kept) = await _collect(
        DataApiClient(base_url="http://sim.test", payload_attempts=2),
        lambda r: httpx.Response(200, json=bad),
    )
    [page] = pages
    assert [t.transaction_hash for t in page.rows] == [V2["data"][1]["transaction_hash"]]
    [rejected] = page.rejected
    assert rejected.endpoint == "GET /v2/trades data[0]" and rejected.error.startswith("price:")
    assert rejected.good_before == 0 and rejected.timestamp == V2["data"][0]["timestamp"]
    # The walk decides which rejected rows are its own to quarantine (see trades/walks.py).
    assert kept == [] and session.http.stats.quarantined == 0
    session.quarantine(page.rejected, page.served)
    endpoint, _params, status, raw, error = kept[0]
    assert (endpoint, status) == ("GET /v2/trades data[0]", 200) and '"lots"' in raw and "price" in error


async def test_bad_payload_is_asked_again_and_quarantined_once():
    answers = iter(
        [httpx.Response(200, text='{"data": ['), httpx.Response(200, json={**V2, "pagination": {}})]
    )
    pages, (session, kept) = await _collect(
        DataApiClient(base_url="http://sim.test"), lambda r: next(answers)
    )
    assert [len(p.rows) for p in pages] == [2]
    assert len(kept) == 1 and session.http.stats.quarantined == 1


async def test_v2_400_names_the_parameter():
    body = {
        "error": "invalid resolution condition id: 0x12",
        "code": "invalid_request",
        "parameter": "condition",
    }
    with pytest.raises(ApiError, match="HTTP 400: invalid resolution condition id"):
        await _collect(DataApiClient(base_url="http://sim.test"), lambda r: httpx.Response(400, json=body))


async def test_v1_fallback_is_off_by_default_and_used_only_when_switched_on(monkeypatch):
    monkeypatch.delenv("PM_INTEL_DATA_V1_FALLBACK", raising=False)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/trades":
            return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(200, json=V1 if request.url.params["offset"] == "0" else [])

    with pytest.raises(ApiError, match="HTTP 404"):
        await _collect(DataApiClient(base_url="http://sim.test"), handler)
    pages, _ = await _collect(DataApiClient(base_url="http://sim.test", v1_fallback=True), handler)
    assert sum(len(p.rows) for p in pages) == len(V1)
    monkeypatch.setenv("PM_INTEL_DATA_V1_FALLBACK", "true")
    pages, _ = await _collect(DataApiClient(base_url="http://sim.test"), handler)
    assert sum(len(p.rows) for p in pages) == len(V1)


def test_base_url_comes_from_the_environment_only_when_unset(monkeypatch):
    monkeypatch.delenv("POLYMARKET_DATA_URL", raising=False)
    assert DataApiClient().resolved_base_url() == "https://data-api.polymarket.com"
    monkeypatch.setenv("POLYMARKET_DATA_URL", "http://127.0.0.1:9/data")
    assert DataApiClient().resolved_base_url() == "http://127.0.0.1:9/data"
    assert DataApiClient(base_url="http://x").resolved_base_url() == "http://x"
