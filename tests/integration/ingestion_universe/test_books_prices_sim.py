"""Order book snapshots and price history materialized against pm_sim."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from pm_assets.books.assets import order_book_snapshots
from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.prices.assets import price_history
from pm_sim.testing import running_sim
from tests import loopback
from tests.support.universe import sim_resources, table_rows

UNKNOWN_TOKEN = "12345678901234567890"


def _meta(result, key):
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_book_snapshots_match_sim_books_and_a_404_book_is_not_stored(warehouse_url):
    with running_sim(markets=40, seed=7) as sim:
        resources = sim_resources(sim, warehouse_url)
        assert dg.materialize([events, markets_and_tokens], resources=resources).success
        [(condition_id,)] = table_rows(
            warehouse_url,
            "select condition_id from markets where closed is false and enable_order_book "
            "order by condition_id limit 1",
        )
        table_rows(
            warehouse_url,
            "insert into tokens (token_id, condition_id, outcome_index, version) "
            "values (%s, %s, 7, 'v1') returning 1",
            (UNKNOWN_TOKEN, condition_id),
        )
        result = dg.materialize([order_book_snapshots], resources=resources)
        assert result.success
        rows = table_rows(
            warehouse_url,
            "select token_id, condition_id, best_bid, best_ask, spread, mid, "
            "bid_depth_usdc, ask_depth_usdc, bids, asks, book_hash from order_book_snapshots",
        )
        sample = {r[0]: r for r in rows[:5]}
        books = loopback.post(sim.clob_url + "/books", json=[{"token_id": t} for t in sample]).json()
    meta = _meta(result, "order_book_snapshots")
    expected_tokens = table_rows(
        warehouse_url,
        "select t.token_id from tokens t join markets m using (condition_id) where m.closed is false "
        "and m.enable_order_book and m.accepting_orders and t.token_id <> %s",
        (UNKNOWN_TOKEN,),
    )
    assert {r[0] for r in rows} == {t for (t,) in expected_tokens}
    assert UNKNOWN_TOKEN not in {r[0] for r in rows}
    assert meta["books_unknown_404"] == 1 and meta["books_fetched"] == len(rows)
    for book in books:
        row = sample[book["asset_id"]]
        bids = [float(b["price"]) for b in book["bids"]]
        asks = [float(a["price"]) for a in book["asks"]]
        assert row[1] == book["market"] and row[10] == book["hash"]
        assert row[2] == (max(bids) if bids else None)
        assert row[3] == (min(asks) if asks else None)
        if bids and asks:
            mid = (max(bids) + min(asks)) / 2
            assert row[5] == pytest.approx(mid) and row[4] == pytest.approx(min(asks) - max(bids))
            within = sum(
                float(b["price"]) * float(b["size"])
                for b in book["bids"]
                if float(b["price"]) >= mid - 0.05 - 1e-9
            )
            assert row[6]["5c"] == pytest.approx(within, abs=1e-4)
        assert [lvl[0] for lvl in row[8]] == sorted(bids, reverse=True)
        assert [lvl[0] for lvl in row[9]] == sorted(asks)


def test_price_history_partition_is_loaded_and_idempotent(warehouse_url):
    with running_sim(markets=20, seed=11) as sim:
        resources = sim_resources(sim, warehouse_url)
        assert dg.materialize([events, markets_and_tokens], resources=resources).success
        day = datetime.fromtimestamp(sim.sim.now(), UTC).date().isoformat()  # the sim's "today", partial
        first = dg.materialize([price_history], resources=resources, partition_key=day)
        rows = table_rows(warehouse_url, "select token_id, ts, price from price_points order by 1, 2")
        again = dg.materialize([price_history], resources=resources, partition_key=day)
        token, ts, price = rows[len(rows) // 2]
        history = loopback.get(
            sim.clob_url + "/prices-history",
            params={
                "market": token,
                "startTs": int(ts.timestamp()),
                "endTs": int(ts.timestamp()) + 1,
                "fidelity": 10,
            },
        ).json()["history"]
    assert first.success and again.success
    assert rows, "the sim has history for the day"
    assert table_rows(warehouse_url, "select token_id, ts, price from price_points order by 1, 2") == rows
    assert _meta(again, "price_points")["rows_inserted"] == 0
    assert _meta(again, "price_points")["rows_updated"] == 0
    assert history[0]["p"] == pytest.approx(price)
    assert all(r[1].date().isoformat() == day for r in rows)
