"""Data API: cursor pages deliver every fill exactly once; the documented errors; faults on feeds."""

from __future__ import annotations

import hashlib

from pm_sim.testing import running_sim
from tests import loopback


def _walk(url: str, params: dict) -> list[dict]:
    rows, cur = [], None
    while True:
        p = dict(params, **({"cursor": cur} if cur else {}))
        body = loopback.get(url, params=p).json()
        rows += body["data"]
        cur = body["pagination"]["next_cursor"]
        assert body["pagination"]["has_more"] == (cur is not None)
        if cur is None:
            return rows


def _checksum(rows: list[dict]) -> tuple[int, str]:
    d = hashlib.sha256()
    occ: dict = {}
    for r in rows:
        key = (r["transaction_hash"], r["token_id"], r["proxy_wallet"], r["side"], r["price"], r["size"])
        occ[key] = occ.get(key, 0) + 1
        d.update(
            (
                f"{r['transaction_hash']}|{r['token_id']}|{r['proxy_wallet']}|{r['side']}|{r['price']!r}|"
                f"{r['size']!r}|{r['timestamp']}|{occ[key]}"
            ).encode()
            + b"\n"
        )
    return len(rows), d.hexdigest()


def test_unfiltered_feed_exactly_once(sim):
    rows = _walk(sim.data_url + "/v2/trades", {"limit": 1000})
    em = loopback.get(sim.admin_url + "/emitted/trades", timeout=120).json()
    assert _checksum(rows) == (em["count"], em["sha256"])
    ts = [r["timestamp"] for r in rows]
    assert ts == sorted(ts, reverse=True)
    txs: dict = {}
    for r in rows:
        txs[r["transaction_hash"]] = txs.get(r["transaction_hash"], 0) + 1
    assert max(txs.values()) > 1  # several fills share a tx


def test_condition_pages_cover_market(sim, markets):
    m = next(x for x in markets if x["open"] and x["has_book"])
    rows = _walk(sim.data_url + "/v2/trades", {"condition": m["condition_id"], "limit": 7})
    allrows = _walk(sim.data_url + "/v2/trades", {"limit": 1000})
    assert rows == [r for r in allrows if r["condition_id"] == m["condition_id"]]
    makers = _walk(sim.data_url + "/v2/trades", {"condition": m["condition_id"], "taker_only": "false"})
    assert len(makers) == 2 * len(rows)


def test_v2_errors(sim, markets):
    r = loopback.get(sim.data_url + "/v2/trades", params={"offset": 10})
    assert r.status_code == 400
    v2 = next(x for x in markets if x["version"] == "v2")
    r = loopback.get(sim.data_url + "/v2/trades", params={"condition": v2["gamma_condition_id"]})
    assert r.status_code == 400
    assert set(r.json()) == {"error", "code", "parameter", "retryable", "trace_id"}
    r = loopback.get(sim.data_url + "/v2/trades", params={"condition": "0x" + "ab" * 32})
    assert r.status_code == 200 and r.json()["data"] == []
    r = loopback.get(sim.data_url + "/trades", params={"offset": 3001})
    assert r.status_code == 400 and r.json() == {"error": "max historical activity offset of 3000 exceeded"}
    res = loopback.get(sim.data_url + "/v2/resolutions", params={"condition": v2["condition_id"]}).json()[
        "data"
    ][0]
    assert {"status", "was_disputed", "was_arbitrated", "extended_review", "new_version_q"} <= set(res)


def test_feed_cap_and_v1_off():
    with running_sim(markets=30, trades_per_second=5, faults="feed_cap=300", data_v1=False) as s:
        rows = _walk(s.data_url + "/v2/trades", {"limit": 100})
        assert len(rows) == 300
        m = s.world.markets[rows[0]["condition_id"] and s.world.by_condition[rows[0]["condition_id"]]]
        assert _walk(s.data_url + "/v2/trades", {"condition": m.condition_id, "limit": 100})
        r = loopback.get(s.data_url + "/trades")
        assert r.status_code == 404 and "error" in r.json()
        assert (
            loopback.get(s.data_url + "/v2/activity", params={"user": rows[0]["proxy_wallet"]}).status_code
            == 200
        )


def test_legacy_era_data_api_is_v1():
    """`--era legacy`: the 2025 contract (§3.1, era table): v1 bare camelCase arrays cannot be retired, the
    Aug-2025 offset cap of 1000 applies, and /v2 stays reachable beside it."""
    with running_sim(era="legacy", data_v1=False, markets=30, history_hours=1.0) as s:
        rows = loopback.get(s.data_url + "/trades", params={"limit": 5}).json()
        assert isinstance(rows, list) and rows and "proxyWallet" in rows[0] and "conditionId" in rows[0]
        cid = rows[0]["conditionId"]
        oi = loopback.get(s.data_url + "/oi", params={"market": cid}).json()
        assert oi == [{"market": cid, "value": oi[0]["value"]}]
        deep = loopback.get(s.data_url + "/trades", params={"offset": 1001})
        assert deep.status_code == 400 and deep.json() == {
            "error": "max historical activity offset of 1000 exceeded"
        }
        v2 = loopback.get(s.data_url + "/v2/trades", params={"limit": 5}).json()
        assert set(v2) == {"data", "pagination"} and v2["data"][0]["proxy_wallet"]
        assert all(m.version != "v2" for m in s.world.markets)
    with running_sim(markets=30, history_hours=1.0) as s:
        assert loopback.get(s.data_url + "/trades", params={"offset": 1001, "limit": 1}).status_code == 200
        assert loopback.get(s.data_url + "/trades", params={"offset": 3001}).status_code == 400
