"""Switchable faults and the planted ground truth."""

from __future__ import annotations

import httpx
import orjson

from pm_sim.testing import running_sim
from tests import loopback


def test_http_faults():
    with running_sim(markets=20) as s:
        s.set_faults(rate_storm=1, retry_after=3)
        r = loopback.get(s.clob_url + "/time")
        assert r.status_code == 429 and r.headers["retry-after"] == "3" and "error" in r.json()
        s.set_faults(cloudflare=1, only="/gamma")
        r = loopback.get(s.gamma_url + "/markets")
        assert r.status_code == 403 and "Cloudflare" in r.text
        assert loopback.get(s.clob_url + "/time").status_code == 200
        s.set_faults(**{"5xx": 1})
        assert loopback.get(s.data_url + "/v2/trades").status_code in (500, 503)
        s.set_faults(truncate=1)
        try:
            orjson.loads(loopback.get(s.data_url + "/v2/trades").content)
            raise AssertionError("expected truncated JSON")
        except orjson.JSONDecodeError:
            pass
        s.set_faults(drift=1)
        body = loopback.get(s.data_url + "/v2/trades", params={"limit": 2}).json()
        assert "sim_unknown_field" in body and isinstance(body["data"][0]["size"], str)
        s.set_faults(hang=1)
        try:
            loopback.get(s.clob_url + "/time", timeout=0.3)
            raise AssertionError("expected a hang")
        except httpx.TimeoutException:
            pass
        s.set_faults()
        assert loopback.get(s.clob_url + "/time").status_code == 200


def test_ground_truth_shape_and_consistency(sim):
    recs = sim.ground_truth(all_records=True)
    kinds = {r["kind"] for r in recs}
    assert {
        "fresh_wallet_insider",
        "coordinated_entry",
        "split_buy",
        "price_spike",
        "volume_spike",
        "arbitrage_binary",
        "market_maker",
        "settlement_sweep",
    } <= kinds
    for r in recs:
        assert {
            "kind",
            "true_event",
            "label",
            "start",
            "end",
            "start_ts",
            "end_ts",
            "condition_id",
            "token_id",
            "wallet",
            "wallets",
            "tx_hashes",
            "size_usdc",
            "edge",
            "fillable_size",
        } <= set(r)
        assert r["condition_id"] is None or len(r["condition_id"]) == 66
    ins = next(r for r in recs if r["kind"] == "fresh_wallet_insider")
    act = loopback.get(sim.data_url + "/v2/activity", params={"user": ins["wallet"], "limit": 100}).json()[
        "data"
    ]
    # activity up to the current clock: the wallet's first activity is visible once it happened
    if ins["wallet_first_activity_ts"] <= loopback.get(sim.admin_url + "/state").json()["now"]:
        assert min(a["timestamp"] for a in act) == ins["wallet_first_activity_ts"]


def test_binary_arb_window_visible_in_books():
    with running_sim(seed=5, markets=60, history_hours=1) as s:
        arb = next(r for r in s.ground_truth() if r["kind"] == "arbitrage_binary")
        m = s.world.markets[s.world.by_condition[arb["condition_id"]]]
        mid = (arb["start_ts"] + arb["end_ts"]) / 2
        loopback.post(s.admin_url + "/clock", json={"set": mid})
        asks = []
        for tok in m.token_ids:
            b = loopback.get(s.clob_url + "/book", params={"token_id": tok}).json()
            asks.append(float(b["asks"][-1]["price"]))
        assert sum(asks) < 1
        assert abs((1 - sum(asks)) - arb["edge"]) < 1e-9
