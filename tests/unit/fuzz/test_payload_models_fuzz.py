"""Fuzz: the upstream payload models and the clients' page walks under hostile rows.

Properties, for trades (v2 and v1 shapes), Gamma markets and events, resolutions, books and price history:
- validating a mutated row raises nothing but pydantic's ValidationError; a row that passes has every value
  in its domain and converts to its warehouse row without raising;
- a real page with generated bad rows mixed in yields every good row (none lost to a neighbour), and the
  bad ones are quarantined with the endpoint and the failing field;
- no planted credential reaches a log line unmasked.
Examples per run (CI): 150 per model test, 40 per page test (see README, "Tests").
"""

from __future__ import annotations

import asyncio
import json
import math
from datetime import UTC, datetime

import httpx
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm_assets.books.models import ClobBook
from pm_assets.books.snapshots import snapshot_row
from pm_assets.markets.models import GammaEvent, GammaMarket
from pm_assets.markets.resolutions import resolution_row
from pm_assets.markets.universe import event_row, market_row, token_rows
from pm_assets.prices.history import point_rows
from pm_assets.prices.models import PricePoint
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.gamma import GammaClient
from pm_assets.trades import sql as trade_sql
from pm_assets.trades.fill_key import keyed_fills
from pm_assets.trades.models import Resolution, Trade
from tests.support.payload_mutations import (
    assert_nothing_unmasked,
    captured_logs,
    fixture,
    fuzz_settings,
    mutated,
)

pytestmark = pytest.mark.fuzz

V2_TRADES = fixture("data_api_v2_trades_by_condition_2026-10-05.json")["data"]
V1_TRADES = fixture("data_api_v1_trades_2026-03-22.json")
MARKET = fixture("gamma_market_2026-06-14.json")
V2_MARKET = fixture("gamma_market_v2_docs_example.json")
EVENT = fixture("gamma_event_v2_docs_example.json")
BOOKS = [fixture("clob_book_rest_2026-03-22.json"), fixture("clob_book_rest_v2_2026-10-05.json")]
RESOLUTION = {
    "condition_id": "0x" + "ab" * 32,
    "status": "resolved",
    "payouts": [1_000_000, 0],
    "was_disputed": False,
    "reporter": "0x" + "cd" * 20,
    "resolution_source": "uma",
    "resolved_at": "2026-10-05T12:00:00Z",
    "market_type": "binary",
}
POINT = {"t": 1_791_241_834, "p": 0.42}
MODEL_EXAMPLES = 150
PAGE_EXAMPLES = 40
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _finite_in(x: float | None, low: float, high: float = math.inf) -> bool:
    return x is None or (math.isfinite(x) and low <= x <= high)


def _decimal_id(x: str) -> bool:
    return x.isascii() and x.isdigit() and len(x) <= 78


def validated(model: type[pydantic.BaseModel], row: dict) -> pydantic.BaseModel | None:
    """The model, or None for a validation error; any other exception fails the property."""
    try:
        return model.model_validate(row)
    except pydantic.ValidationError:
        return None


# ---- one row at a time: only validation errors escape; what passes is in its domain and converts ----


@fuzz_settings(MODEL_EXAMPLES)
@given(st.one_of(*(mutated(r) for r in V2_TRADES), *(mutated(r) for r in V1_TRADES[:3])))
def test_a_trade_row_is_valid_and_in_domain_or_a_validation_error(row):
    trade = validated(Trade, row)
    if trade is None:
        return
    assert _finite_in(trade.price, 0, 1) and _finite_in(trade.size, 0)
    assert _decimal_id(trade.token_id) and len(trade.condition_id) == 66 and len(trade.proxy_wallet) == 42
    assert trade.outcome_index is None or 0 <= trade.outcome_index < 2**31
    [keyed] = keyed_fills([trade])
    trade_sql.trade_row(keyed, "data_v2")  # the warehouse row builds (timestamps in range)


# The fields whose values are numbers, dates, ids or arrays: where a wrong value does harm.
MARKET_VALUE_KEYS = [
    "startDate",
    "endDate",
    "closedTime",
    "updatedAt",
    "outcomes",
    "outcomePrices",
    "clobTokenIds",
    "positionIds",
    "conditionId",
    "bestBid",
    "bestAsk",
    "lastTradePrice",
    "spread",
    "volumeNum",
    "liquidityNum",
    "orderPriceMinTickSize",
    "feeSchedule",
    "version",
]


@fuzz_settings(MODEL_EXAMPLES)
@given(st.one_of(mutated(MARKET), mutated(V2_MARKET), mutated(MARKET, MARKET_VALUE_KEYS)))
def test_a_gamma_market_is_valid_and_in_domain_or_a_validation_error(row):
    market = validated(GammaMarket, row)
    if market is None:
        return
    for price in (*market.outcome_prices, market.best_bid, market.best_ask, market.last_trade_price):
        assert _finite_in(price, 0, 1)
    assert all(_decimal_id(t) for t in market.outcome_ids)
    assert (
        not market.outcomes or not market.outcome_prices or len(market.outcomes) == len(market.outcome_prices)
    )
    try:
        market_row(market)
        token_rows(market)
    except ValueError as exc:  # the crawl quarantines a market it cannot convert (see storage/isolation.py)
        assert "fee schedule" in str(exc)


@fuzz_settings(MODEL_EXAMPLES)
@given(mutated(EVENT))
def test_a_gamma_event_is_valid_or_a_validation_error(row):
    event = validated(GammaEvent, row)
    if event is not None:
        assert _finite_in(event.volume, 0) and _finite_in(event.liquidity, 0)
        event_row(event)


@fuzz_settings(MODEL_EXAMPLES)
@given(mutated(RESOLUTION))
def test_a_resolution_is_valid_and_in_domain_or_a_validation_error(row):
    res = validated(Resolution, row)
    if res is not None:
        assert all(0 <= p <= 1_000_000 for p in res.payouts or [])
        resolution_row(res, {}, NOW)


@fuzz_settings(MODEL_EXAMPLES)
@given(st.one_of(*(mutated(b) for b in BOOKS)), st.data())
def test_a_book_is_valid_and_in_domain_or_a_validation_error(row, data):
    if isinstance(row.get("asks"), list) and row["asks"] and data.draw(st.booleans()):  # a deep bad level
        row["asks"][data.draw(st.integers(0, len(row["asks"]) - 1))] = data.draw(
            mutated({"price": "0.5", "size": "10"})
        )
    book = validated(ClobBook, row)
    if book is None:
        return
    assert all(_finite_in(lv.price, 0, 1) and _finite_in(lv.size, 0) for lv in (*book.bids, *book.asks))
    assert _decimal_id(book.asset_id)
    snapshot_row(book, NOW)


@fuzz_settings(MODEL_EXAMPLES)
@given(mutated(POINT))
def test_a_price_point_is_valid_and_in_domain_or_a_validation_error(row):
    point = validated(PricePoint, row)
    if point is not None:
        assert _finite_in(point.p, 0, 1)
        point_rows({"1": [point]})


# ---- whole pages through the clients: one bad row never costs a good one, and logs stay masked ----


def _answer(body: object) -> httpx.Response:
    # The standard library writes NaN / Infinity literals and integers past 64 bits, as a hostile upstream might.
    return httpx.Response(
        200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


def _mixed(good: list[dict], bad: list[dict], slots: list[int]) -> list[dict]:
    page = list(good)
    for row, slot in zip(bad, slots, strict=False):
        page.insert(min(slot, len(page)), row)
    return page


def _distinct_trades(n: int) -> list[dict]:
    base = V2_TRADES[0]
    return [
        {
            **base,
            "transaction_hash": f"0x{i + 1:064x}",
            "proxy_wallet": f"0x{i + 1:040x}",
            "timestamp": 1_791_241_900 - i,
        }
        for i in range(n)
    ]


bad_slots = st.lists(st.integers(0, 12), min_size=1, max_size=5)


@fuzz_settings(PAGE_EXAMPLES)
@given(st.lists(mutated(V2_TRADES[0]), min_size=1, max_size=5), bad_slots)
def test_a_trade_page_keeps_every_good_row_beside_hostile_ones(bad, slots):
    good = _distinct_trades(10)
    page = _mixed(good, bad, slots)
    kept: list = []

    async def walk():
        client = DataApiClient(base_url="http://data.test", max_attempts=1, payload_attempts=1)
        transport = httpx.MockTransport(
            lambda r: _answer({"data": page, "pagination": {"next_cursor": None}})
        )
        async with client.session(quarantine=lambda *a: kept.append(a), transport=transport) as session:
            pages = [p async for p in session.trade_pages()]
            for p in pages:
                session.quarantine(p.rejected, p.served)
            return pages

    with captured_logs() as lines:
        [result] = asyncio.run(walk())
    hashes = {t.transaction_hash for t in result.rows}
    assert {g["transaction_hash"] for g in good} <= hashes
    assert result.served == len(page) and len(kept) == len(result.rejected)
    assert all(k[0].startswith("GET /v2/trades data[") and k[4] for k in kept)
    assert_nothing_unmasked(lines)


@fuzz_settings(PAGE_EXAMPLES)
@given(st.lists(mutated(MARKET), min_size=1, max_size=5), bad_slots)
def test_a_gamma_page_keeps_every_good_market_beside_hostile_ones(bad, slots):
    good = [{**MARKET, "id": str(i), "conditionId": f"0x{i:064x}"} for i in range(1, 9)]
    page = _mixed(good, bad, slots)
    kept: list = []

    async def crawl():
        client = GammaClient(base_url="http://gamma.test", max_attempts=1, payload_attempts=1)
        transport = httpx.MockTransport(lambda r: _answer({"markets": page}))
        async with client.session(quarantine=lambda *a: kept.append(a), transport=transport) as session:
            return [p async for p in session.markets(closed=False, version="v1")]

    with captured_logs() as lines:
        [result] = asyncio.run(crawl())
    ids = [m.id for m in result.items]
    assert all(g["id"] in ids for g in good)
    assert len(result.items) + result.rejected == len(page) == len(result.items) + len(kept)
    assert_nothing_unmasked(lines)


@fuzz_settings(PAGE_EXAMPLES)
@given(
    st.lists(st.one_of(*(mutated(b) for b in BOOKS)), min_size=1, max_size=4),
    st.lists(mutated(POINT), min_size=1, max_size=4),
    bad_slots,
)
def test_books_and_price_history_keep_every_good_entry_beside_hostile_ones(bad_books, bad_points, slots):
    good_books = [{**BOOKS[1], "asset_id": str(10**70 + i)} for i in range(6)]
    books = _mixed(good_books, bad_books, slots)
    good_points = [{"t": 1_791_200_000 + 600 * i, "p": 0.5} for i in range(8)]
    points = _mixed(good_points, bad_points, slots)
    kept: list = []

    def handler(request: httpx.Request) -> httpx.Response:
        return _answer(books if request.url.path == "/books" else {"history": points})

    async def fetch():
        client = ClobClient(base_url="http://clob.test", max_attempts=1, payload_attempts=1)
        async with client.session(
            quarantine=lambda *a: kept.append(a), transport=httpx.MockTransport(handler)
        ) as s:
            wanted = [b["asset_id"] for b in good_books]
            return await s.books(wanted), await s.price_history("1", 1_791_100_000, 1_791_300_000)

    with captured_logs() as lines:
        got_books, got_points = asyncio.run(fetch())
    assert set(got_books.books) == {b["asset_id"] for b in good_books}
    assert {p["t"] for p in good_points} <= {p.t for p in got_points}
    assert_nothing_unmasked(lines)


@fuzz_settings(PAGE_EXAMPLES)
@given(st.lists(mutated(RESOLUTION), min_size=1, max_size=5), bad_slots)
def test_a_resolution_page_keeps_every_good_row_beside_hostile_ones(bad, slots):
    good = [{**RESOLUTION, "condition_id": f"0x{i:064x}"} for i in range(1, 11)]
    page = _mixed(good, bad, slots)

    async def fetch():
        client = DataApiClient(base_url="http://data.test", max_attempts=1, payload_attempts=1)
        transport = httpx.MockTransport(lambda r: _answer({"data": page, "pagination": {}}))
        async with client.session(transport=transport) as session:
            return await session.resolutions([g["condition_id"] for g in good])

    with captured_logs() as lines:
        got = asyncio.run(fetch())
    assert {g["condition_id"] for g in good} <= {r.condition_id for r in got}
    assert_nothing_unmasked(lines)
