"""One bad Gamma item, book or price point costs itself only: validation errors (never Overflow/OSError) name
the field, the item is quarantined, the rest of its page is stored, and the crawl goes on."""

from __future__ import annotations

import asyncio
import json

import dagster as dg
import httpx
import psycopg
import pytest

from pm_assets.markets.assets import markets_and_tokens
from pm_assets.markets.identifiers import IdentifierError, normalize_outcome_id
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.gamma import GammaClient
from pm_assets.resources.warehouse import WarehouseResource
from tests.conftest import FIXTURES_DIR

GOOD = json.loads((FIXTURES_DIR / "gamma_market_2026-06-14.json").read_text())
BOOK = json.loads((FIXTURES_DIR / "clob_book_rest_v2_2026-10-05.json").read_text())


def market(n: int, **over) -> dict:
    """The recorded market under a new id (distinct condition and token ids), with `over` applied."""
    ids = [str(10**70 + 2 * n), str(10**70 + 2 * n + 1)]
    return {**GOOD, "id": str(n), "conditionId": f"0x{n:064x}", "clobTokenIds": json.dumps(ids), **over}


HOSTILE = {
    "startDate": {"startDate": 1e20},
    "endDate": {"endDate": 123456789012345678901234567890},
    "closedTime": {"closedTime": "99999999999999999999"},
    "outcomePrices": {"outcomePrices": '["0.99", null]'},
    "bestBid": {"bestBid": 1.5},
    "bestAsk": {"bestAsk": "NaN"},
    "clobTokenIds": {"clobTokenIds": '["١٢٣", "124"]'},
    "volumeNum": {"volumeNum": -3},
}


def crawl_page(items: list[dict]) -> tuple[list, list]:
    quarantined: list = []

    async def go():
        client = GammaClient(base_url="http://gamma.test")
        transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"markets": items}))
        async with client.session(
            quarantine=lambda *a: quarantined.append(a), transport=transport
        ) as session:
            return [p async for p in session.markets(closed=False, version="v1")]

    return asyncio.run(go()), quarantined


def test_hostile_values_are_validation_errors_that_cost_their_market_only():
    items = (
        [market(1)] + [market(10 + i, **change) for i, change in enumerate(HOSTILE.values())] + [market(2)]
    )
    [page], quarantined = crawl_page(items)
    assert [m.id for m in page.items] == ["1", "2"] and page.rejected == len(HOSTILE)
    for (endpoint, _params, _status, raw, error), (field, _change) in zip(
        quarantined, HOSTILE.items(), strict=True
    ):
        assert endpoint.startswith("GET /markets/keyset markets[") and error.startswith(field), (field, error)
        assert field in json.loads(raw)  # the market as served is the evidence


def test_a_null_outcome_price_refuses_the_market_instead_of_shifting_the_winner():
    resolved = market(5, closed=True, umaResolutionStatus="resolved", outcomePrices='[null, "1"]')
    [page], [(_, _, _, _, error)] = crawl_page([resolved])
    assert page.items == [] and error.startswith("outcomePrices")


def test_unicode_digits_are_not_an_outcome_id():
    with pytest.raises(IdentifierError):
        normalize_outcome_id("١٢٣")
    assert normalize_outcome_id("0123") == "123"


class _StubGamma(GammaClient):
    """The real client over an in-process transport that serves one page of v1 open markets."""

    def session(self, quarantine=None, transport=None):
        page = [
            market(1),
            market(
                2, feeSchedule={"rate": -1, "exponent": 1}
            ),  # valid JSON, but no fee schedule can be built
            market(3, question="nul \x00 in the question"),  # the warehouse refuses NUL in text
            market(4),
        ]

        def handler(request: httpx.Request) -> httpx.Response:
            own = request.url.params["version"] == "v1" and request.url.params["closed"] == "false"
            return httpx.Response(200, json={"markets": page if own else []})

        return super().session(quarantine, httpx.MockTransport(handler))


def test_the_universe_crawl_stores_every_good_market_of_a_page_and_quarantines_the_others(warehouse_url):
    result = dg.materialize(
        [markets_and_tokens],
        resources={"warehouse": WarehouseResource(database_url=warehouse_url), "gamma": _StubGamma()},
    )
    assert result.success
    meta = result.asset_materializations_for_node("markets_and_tokens")[0].metadata
    with psycopg.connect(warehouse_url) as conn:
        stored = [r[0] for r in conn.execute("select market_id from markets order by market_id").fetchall()]
        tokens = conn.execute("select count(*) from tokens").fetchone()[0]
        kept = conn.execute(
            "select endpoint, error from raw_payloads where quarantined order by id"
        ).fetchall()
    assert stored == ["1", "4"] and tokens == 4
    assert kept[0][0] == "markets [1]" and "fee schedule rate" in kept[0][1]
    assert kept[1][0] == "write markets" and "NUL" in kept[1][1]
    # market 3's tokens name a market that was refused: the warehouse refuses them too, each kept as evidence
    assert [k[0] for k in kept[2:]] == ["write tokens", "write tokens"]
    assert meta["quarantined_payloads_written"].value == 4


def test_a_bad_book_or_price_point_costs_itself_only():
    inf_size = {**BOOK, "asset_id": "7", "asks": [{"price": "0.5", "size": "inf"}]}
    history = {
        "history": [{"t": 1795000000, "p": 0.4}, {"t": 1795000600, "p": 1.5}, {"t": 1795001200, "p": 0.6}]
    }
    quarantined: list = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/books":
            return httpx.Response(200, json=[BOOK, inf_size])
        return httpx.Response(200, json=history)

    async def go():
        client = ClobClient(base_url="http://clob.test", payload_attempts=2)
        transport = httpx.MockTransport(handler)
        async with client.session(quarantine=lambda *a: quarantined.append(a), transport=transport) as s:
            return await s.books([BOOK["asset_id"], "7"]), await s.price_history("7", 1794999000, 1795002000)

    books, points = asyncio.run(go())
    assert list(books.books) == [BOOK["asset_id"]] and books.rejected == {"7"}
    assert [p.p for p in points] == [0.4, 0.6]
    assert [(q[0], q[4].split(":")[0]) for q in quarantined] == [
        ("POST /books [1]", "asks[0].size"),
        ("GET /prices-history history[1]", "p"),
    ]
