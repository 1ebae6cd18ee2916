"""One bad upstream fill costs itself only: quarantined with its endpoint and field, its neighbours stored,
the live edge moving on past it, and the coverage ledger never calling its seconds covered."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from pm_assets.coverage import ledger
from pm_assets.resources.data_api import DataApiClient
from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.trades.fill_key import keyed_fills
from pm_assets.trades.live_edge import CURSOR, poll_live_edge
from pm_assets.trades.loading import run_trade_load
from pm_assets.trades.models import Trade
from pm_assets.trades.writer import TradeBatchWriter
from tests.conftest import FIXTURES_DIR

TEMPLATE = json.loads((FIXTURES_DIR / "data_api_v2_trades_by_condition_2026-10-05.json").read_text())["data"][
    0
]
T0 = 1_795_000_020  # 2026-11-18, on a minute boundary


def fill(i: int, ts: int, **over) -> dict:
    return {
        **TEMPLATE,
        "proxy_wallet": f"0x{i:040x}",
        "transaction_hash": f"0x{i:064x}",
        "timestamp": ts,
        "size": 1 + i,
        **over,
    }


class Feed:
    """The global /v2/trades feed, newest first, served in cursor pages."""

    def __init__(self, rows: list[dict]):
        self.rows = rows

    def handler(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        offset = int(request.url.params.get("cursor", "0"))
        page = self.rows[offset : offset + limit]
        more = offset + limit < len(self.rows)
        return httpx.Response(
            200,
            json={
                "data": page,
                "pagination": {"has_more": more, "next_cursor": str(offset + limit) if more else None},
            },
        )


def poll(url: str, feed: Feed, lookback_s: int = 300) -> tuple:
    @contextmanager
    def connect():
        with psycopg.connect(url) as conn:
            yield conn

    outcome = run_trade_load(
        DataApiClient(base_url="http://data.test", page_limit=4, payload_attempts=2, max_attempts=1),
        connect,
        lambda session, writer: poll_live_edge(session, writer, lookback_s=lookback_s),
        run_id="test",
        transport=httpx.MockTransport(feed.handler),
    )
    return outcome.value, outcome.metadata


def stored_hashes(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("select transaction_hash from trades").fetchall()}


def quarantined(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select endpoint, error, body, run_id from raw_payloads where quarantined order by id"
        ).fetchall()


def test_a_bad_fill_is_quarantined_once_its_page_stored_and_the_live_edge_moves_past_it(warehouse_url):
    # Ten fills a minute apart, newest first; the fifth has a price outside [0, 1]. The first poll covers
    # the 300 s before the newest fill, so fills 0-5 are its own.
    rows = [fill(i, T0 - 60 * i) for i in range(10)]
    rows[4] = fill(4, T0 - 240, price="1.5")
    feed = Feed(rows)
    first, meta = poll(warehouse_url, feed)

    assert stored_hashes(warehouse_url) == {rows[i]["transaction_hash"] for i in (0, 1, 2, 3, 5)}
    [(endpoint, error, body, run_id)] = quarantined(warehouse_url)
    assert endpoint == "GET /v2/trades data[0]" and error.startswith("price:") and "[0, 1]" in error
    assert json.loads(body)["transaction_hash"] == rows[4]["transaction_hash"] and run_id == "test"
    assert meta["rows_quarantined"] == 1 and meta["quarantined"] == 1
    assert first.proven and first.newest_s == T0 and first.quarantined_rows == 1

    # The bad row stays in the feed's range while new fills arrive: the edge moves on, the row is kept once.
    feed.rows = [fill(100 + i, T0 + 60 * (3 - i)) for i in range(3)] + rows
    second, _ = poll(warehouse_url, feed)
    assert second.proven and second.newest_s == T0 + 180 and second.frontier_before_s == T0
    assert len(quarantined(warehouse_url)) == 1
    with psycopg.connect(warehouse_url) as conn:
        complete_through, value = conn.execute(
            "select complete_through, value from ingestion_cursors where name = %s", (CURSOR,)
        ).fetchone()
        assert complete_through == datetime.fromtimestamp(T0 + 180, UTC) and value["frontier_s"] == T0 + 180

        # Coverage: the bad row's minute is a gap that names the quarantine; its neighbours' minutes are covered.
        bad_minute = datetime.fromtimestamp(T0 - 240, UTC).replace(second=0)
        evidence = ledger.trade_feed_evidence(
            conn, bad_minute - timedelta(minutes=2), bad_minute + timedelta(minutes=3)
        )
        states = {
            m: (state, detail)
            for m, state, detail in ledger.minute_states(
                evidence, bad_minute - timedelta(minutes=2), bad_minute + timedelta(minutes=3)
            )
        }
    state, detail = states[bad_minute]
    assert state == "gap" and detail["gaps"][0]["reason"] == "row quarantined, not stored"
    assert states[bad_minute - timedelta(minutes=1)][0] == "covered"
    assert states[bad_minute + timedelta(minutes=1)][0] == "covered"


def test_an_all_bad_page_is_not_the_end_of_the_feed(warehouse_url):
    # page_limit is 4: the second page holds only bad rows; the walk must read on to the third.
    rows = [fill(i, T0 - 60 * i) for i in range(12)]
    for i in range(4, 8):
        rows[i] = fill(i, T0 - 60 * i, proxy_wallet="not a wallet")
    result, meta = poll(warehouse_url, Feed(rows), lookback_s=3600)
    assert stored_hashes(warehouse_url) == {
        r["transaction_hash"] for i, r in enumerate(rows) if not 4 <= i < 8
    }
    assert meta["rows_quarantined"] == 4 and result.pages == 3 and result.oldest_s == T0 - 660


def test_a_bad_row_above_the_frontier_is_quarantined_once_however_often_it_is_read(warehouse_url):
    rows = [fill(0, T0, side="HOLD")] + [fill(i, T0 - 60 * i) for i in range(1, 8)]
    feed = Feed(rows)
    for _ in range(3):  # no new fills: every poll reads the bad row again, newest of all
        result, _ = poll(warehouse_url, feed)
        assert result.proven and result.newest_s == T0 - 60
    [(endpoint, error, _body, _run)] = quarantined(warehouse_url)
    assert endpoint == "GET /v2/trades data[0]" and error.startswith("side:")


def test_a_row_the_warehouse_refuses_costs_itself_not_its_5000_fill_batch(warehouse_url):
    trades = [Trade.model_validate(fill(i, T0 - i)) for i in range(5000)]
    # A value no model check caught (built past validation): the column is a Postgres integer.
    trades[2500] = trades[2500].model_construct(**{**dict(trades[2500]), "outcome_index": 2**31})
    buffer = RawPayloadBuffer("data_api", run_id="r")
    with psycopg.connect(warehouse_url) as conn:
        writer = TradeBatchWriter(conn, buffer, batch_size=5000)
        for kt in keyed_fills(trades):
            writer.add(kt)
        writer.flush()
    assert writer.stats.inserted == 4999 and writer.stats.rows_refused_by_database == 1
    assert stored_hashes(warehouse_url) == {t.transaction_hash for i, t in enumerate(trades) if i != 2500}
    [(endpoint, error, body, _run)] = quarantined(warehouse_url)
    assert endpoint == "write trades" and "NumericValueOutOfRange" in error and "2147483648" in body


def test_outcome_index_past_a_postgres_integer_and_unicode_digits_are_validation_errors():
    for bad in (
        {"outcome_index": 2**31},
        {"token_id": "١٢٣"},
        {"size": "inf"},
        {"price": "NaN"},
        {"timestamp": 10**30},
    ):
        try:
            Trade.model_validate(fill(1, T0, **bad))
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            assert type(exc).__name__ == "ValidationError", bad
        else:
            raise AssertionError(f"accepted {bad}")


async def test_a_bad_resolution_row_costs_itself_not_its_twenty_markets():
    rows = [
        {"condition_id": f"0x{n:064x}", "status": "resolved", "payouts": [1_000_000, 0]} for n in range(1, 21)
    ]
    rows[7]["payouts"] = [2_000_000, 0]  # more than the whole collateral
    rows[9]["condition_id"] = "0x١٢٣"
    kept: list = []
    client = DataApiClient(base_url="http://data.test")
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"data": rows, "pagination": {}}))
    async with client.session(quarantine=lambda *a: kept.append(a), transport=transport) as session:
        got = await session.resolutions(
            [r["condition_id"] for r in rows if r is not rows[9]] + ["0x" + "0" * 64]
        )
    assert [r.condition_id for r in got] == [r["condition_id"] for i, r in enumerate(rows) if i not in (7, 9)]
    assert [(k[0], k[4].split(":")[0]) for k in kept] == [
        ("GET /v2/resolutions data[7]", "payouts[0]"),
        ("GET /v2/resolutions data[9]", "condition_id"),
    ]
