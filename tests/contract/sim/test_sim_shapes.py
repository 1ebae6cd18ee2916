"""pm_sim answers have the fixtures' keys and JSON types, field by field."""

from __future__ import annotations

from tests import loopback
from tests.support.shapes import load, shape_diff
from tests.support.sim import pick

PRICE_CHANGES = {
    "market": "0x5f",
    "price_changes": [
        {
            "asset_id": "1",
            "price": "0.5",
            "size": "200",
            "side": "BUY",
            "hash": "56",
            "best_bid": "0.5",
            "best_ask": "1",
        }
    ],
    "timestamp": "1757908892351",
    "event_type": "price_change",
}


def test_rest_book_v1(sim, markets):
    m = pick(markets, open=True, has_book=True, version="v1")
    got = loopback.get(sim.clob_url + "/book", params={"token_id": m["token_ids"][0]}).json()
    assert shape_diff(load("clob_book_rest_2026-03-22.json"), got) == []


def test_rest_book_v2(sim, markets):
    m = pick(markets, open=True, has_book=True, version="v2")
    got = loopback.get(sim.clob_url + "/book", params={"token_id": m["token_ids"][1]}).json()
    ref = load("clob_book_rest_v2_2026-10-05.json")
    assert shape_diff(ref, got) == []
    assert list(got)[-1] == "version" and len(got["market"]) == 66 and got["market"].endswith("00")


def test_data_v1_trades(sim):
    got = loopback.get(sim.data_url + "/trades", params={"limit": 5}).json()
    assert len(got) == 5
    assert shape_diff(load("data_api_v1_trades_2026-03-22.json"), got) == []


def test_data_v2_trades_by_condition(sim, markets):
    for m in markets:
        got = loopback.get(
            sim.data_url + "/v2/trades", params={"condition": m["condition_id"], "limit": 2}
        ).json()
        if got["pagination"]["has_more"]:
            break
    assert shape_diff(load("data_api_v2_trades_by_condition_2026-10-05.json"), got) == []


def test_data_v2_prices_history(sim, markets):
    m = pick(markets, open=True, has_book=True)
    got = loopback.get(
        sim.data_url + "/v2/prices-history", params={"market": m["token_ids"][0], "limit": 3}
    ).json()
    assert shape_diff(load("data_api_v2_prices_history_2026-10-05.json"), got) == []
    assert got["pagination"]["next_cursor"]


def test_gamma_market(sim, markets):
    m = pick(markets, open=True, has_book=True, version=None, neg_risk=True)
    got = loopback.get(sim.gamma_url + f"/markets/{m['id']}").json()
    ref = load("gamma_market_2026-06-14.json")
    opt = frozenset(
        {"oneWeekPriceChange", "oneMonthPriceChange", "feeSchedule", "feeType", "closedTime", "outcomePrices"}
    )
    assert shape_diff(ref, got, optional=opt | {"eventMetadata"}) == []


def test_gamma_v2_docs_examples(sim, markets):
    m = pick(markets, open=True, version="v2")
    got = loopback.get(sim.gamma_url + f"/markets/{m['id']}").json()
    assert shape_diff(load("gamma_market_v2_docs_example.json"), got, subset=True) == []
    assert len(got["conditionId"]) == 64 and int(got["conditionId"][2:4], 16) in (1, 2)
    assert got["positionIds"][1] == str(int(got["positionIds"][0]) + 1)
    assert int(got["positionIds"][0]) == int(got["conditionId"][2:], 16) << 8
    ev = loopback.get(sim.gamma_url + f"/events/{m['event_id']}", params={"version": "v2"}).json()
    assert shape_diff(load("gamma_event_v2_docs_example.json"), ev, subset=True) == []


def test_ws_frames_shapes(ws_frames):
    books, others = ws_frames
    v1 = [b for b in books if "version" not in b]
    v2 = [b for b in books if "version" in b]
    ref = load("ws_market_book_snapshot_2026-08.json")
    assert v1 and all(shape_diff(ref, b) == [] for b in v1)
    ref2 = load("ws_market_book_v2_2026-10-05.json")[0]
    assert v2 and all(shape_diff(ref2, b) == [] for b in v2)
    pcs = [o for o in others if o.get("event_type") == "price_change"]
    assert pcs and all(shape_diff(PRICE_CHANGES, o) == [] for o in pcs)
    ref_ltp = load("ws_market_last_trade_price_2024-08.json")
    ltps = [o for o in others if o.get("event_type") == "last_trade_price"]
    assert ltps and all(shape_diff(ref_ltp, o, optional=frozenset({"transaction_hash"})) == [] for o in ltps)
    ticks = [o for o in others if o.get("event_type") == "tick_size_change"]
    ref_t = load("ws_market_tick_size_change_2025-02.json")
    assert all(shape_diff(ref_t, o) == [] for o in ticks)
