"""Contract tests: the models parse every recorded payload as it is, pm_sim's answers too, and refuse garbage
with the endpoint and the field named."""

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pydantic
import pytest

from pm_assets.books.models import ClobBook
from pm_assets.markets.models import GammaEvent, GammaMarket, KeysetEnvelope
from pm_assets.prices.models import PriceHistory
from pm_assets.resources.gamma import GammaClient
from pm_assets.resources.http import PayloadError
from pm_sim.testing import running_sim
from tests import loopback
from tests.conftest import FIXTURES_DIR

FIXTURES = FIXTURES_DIR


def _load(name):
    return json.loads((FIXTURES / name).read_text())


def test_gamma_market_fixture_parses_with_real_types():
    market = GammaMarket.model_validate(_load("gamma_market_2026-06-14.json"))
    assert market.generation == "v1" and len(market.outcome_ids) == 2
    assert market.outcomes == ["Yes", "No"] and market.outcome_prices == [0.2325, 0.7675]
    assert market.volume == pytest.approx(25814545.294374414) and market.best_ask == 0.233
    assert market.event_id == "30829" and market.neg_risk and market.fee_schedule.rate == 0.04
    assert market.start_date == datetime(2025, 7, 11, 18, 35, 56, 805000, tzinfo=UTC)
    GammaEvent.model_validate(_load("gamma_market_2026-06-14.json")["events"][0])


def test_v2_docs_examples_parse():
    event = _load("gamma_event_v2_docs_example.json")
    GammaEvent.model_validate(event)
    market = GammaMarket.model_validate(event["markets"][0])
    assert market.generation == "v2" and market.condition_id.endswith("00") and len(market.condition_id) == 66
    # The market example lists only the fields that change on a v2 market: lay them over a real market.
    overlay = {**_load("gamma_market_2026-06-14.json"), **_load("gamma_market_v2_docs_example.json")}
    v2 = GammaMarket.model_validate(overlay)
    assert v2.outcome_ids == overlay["positionIds"] and v2.clob_token_ids is None


def test_space_separated_dates_and_drifted_numbers():
    base = _load("gamma_market_2026-06-14.json")
    drifted = {
        **base,
        "closedTime": "2020-11-02 16:31:01+00",
        "bestBid": "0.232",
        "volumeNum": "12.5",
        "orderPriceMinTickSize": "0.0025",
        "brandNewField": {"x": 1},
    }
    drifted.pop("outcomePrices")
    market = GammaMarket.model_validate(drifted)
    assert market.closed_time == datetime(2020, 11, 2, 16, 31, 1, tzinfo=UTC)
    assert market.best_bid == 0.232 and market.tick_size == 0.0025 and market.outcome_prices == []


@pytest.mark.parametrize("name", ["clob_book_rest_2026-03-22.json", "clob_book_rest_v2_2026-10-05.json"])
def test_rest_books_parse(name):
    raw = _load(name)
    book = ClobBook.model_validate(raw)
    assert book.asset_id == raw["asset_id"] and len(book.market) == 66
    assert book.timestamp == datetime.fromtimestamp(int(raw["timestamp"]) / 1000, UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"conditionId": "0xnothex"}, "conditionId"),
        ({"clobTokenIds": '["1.5e3"]'}, "clobTokenIds"),
        ({"outcomes": "not json"}, "outcomes"),
        ({"bestBid": "cheap"}, "bestBid"),
        ({"version": "v9"}, "version"),
        ({"endDate": "someday"}, "endDate"),
        ({"id": None}, "id"),
    ],
)
def test_garbage_is_refused_naming_the_field(change, field):
    with pytest.raises(pydantic.ValidationError) as info:
        GammaMarket.model_validate({**_load("gamma_market_2026-06-14.json"), **change})
    assert field in str(info.value)


def test_bad_item_is_quarantined_with_endpoint_and_field_and_the_rest_kept():
    good = _load("gamma_market_2026-06-14.json")
    bad = {**good, "id": "2", "conditionId": "0x12"}
    page = {"markets": [good, bad]}
    quarantined = []

    def handler(request):
        return httpx.Response(200, json=page)

    async def crawl():
        client = GammaClient(base_url="http://gamma.test")
        async with client.session(
            quarantine=lambda *a: quarantined.append(a), transport=httpx.MockTransport(handler)
        ) as session:
            return [p async for p in session.markets(closed=False, version="v1")]

    [result] = asyncio.run(crawl())
    assert [m.id for m in result.items] == [good["id"]] and result.rejected == 1
    endpoint, params, status, raw, error = quarantined[0]
    assert endpoint == "GET /markets/keyset markets[1]" and "conditionId" in error and '"0x12"' in raw
    assert params["closed"] == "false" and params["version"] == "v1"


def test_a_page_that_never_parses_fails_naming_the_endpoint():
    async def crawl():
        client = GammaClient(base_url="http://gamma.test", payload_attempts=2)
        transport = httpx.MockTransport(lambda r: httpx.Response(200, text="{not json"))
        async with client.session(transport=transport) as session:
            return [p async for p in session.markets(closed=True, version="v2")]

    with pytest.raises(Exception, match="GET /markets/keyset") as info:
        asyncio.run(crawl())
    assert not isinstance(info.value, PayloadError) or "keyset" in str(info.value)


def test_pm_sim_answers_parse_with_the_same_models():
    with running_sim(markets=30, seed=2) as sim:
        for version in ("v1", "v2"):
            for closed in ("false", "true"):
                params = {"limit": 100, "version": version, "closed": closed}
                page = KeysetEnvelope.model_validate(
                    loopback.get(sim.gamma_url + "/markets/keyset", params=params).json()
                )
                markets = [GammaMarket.model_validate(m) for m in page.markets]
                assert all(m.generation == version for m in markets)
                events = KeysetEnvelope.model_validate(
                    loopback.get(sim.gamma_url + "/events/keyset", params=params).json()
                )
                [GammaEvent.model_validate(e) for e in events.events]
        open_markets = [
            GammaMarket.model_validate(m)
            for m in loopback.get(
                sim.gamma_url + "/markets/keyset", params={"limit": 100, "version": "v2", "closed": "false"}
            ).json()["markets"]
        ]
        tokens = [m.outcome_ids[0] for m in open_markets if m.accepting_orders]
        books = loopback.post(sim.clob_url + "/books", json=[{"token_id": t} for t in tokens]).json()
        assert [ClobBook.model_validate(b).asset_id for b in books] == tokens
        assert any(b.get("version") == "v2" for b in books)
        one = loopback.get(sim.clob_url + "/book", params={"token_id": tokens[0]}).json()
        ClobBook.model_validate(one)
        history = loopback.get(
            sim.clob_url + "/prices-history", params={"market": tokens[0], "interval": "1d", "fidelity": 60}
        ).json()
        assert PriceHistory.model_validate(history).history
