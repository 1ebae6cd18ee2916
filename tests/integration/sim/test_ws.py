"""Websocket market channel: deltas converge to REST /book; PING/PONG; unsubscribe; custom events."""

from __future__ import annotations

import json

from tests import loopback
from tests.support.sim import drain, wait_synced, ws_session
from tests.waiting import HANG_S


def _apply(state: dict, msg: dict) -> None:
    if msg.get("event_type") == "book":
        state[msg["asset_id"]] = (
            {x["price"]: x["size"] for x in msg["bids"]},
            {x["price"]: x["size"] for x in msg["asks"]},
        )
    elif msg.get("event_type") == "price_change":
        for ch in msg["price_changes"]:
            bids, asks = state[ch["asset_id"]]
            side = bids if ch["side"] == "BUY" else asks
            if ch["size"] == "0":
                side.pop(ch["price"], None)
            else:
                side[ch["price"]] = ch["size"]


def test_deltas_converge_to_rest(sim, markets):
    live = [m for m in markets if m["open"] and m["has_book"]][:12]
    assets = [t for m in live for t in m["token_ids"]]
    ws = ws_session(sim, assets, custom=False)
    state: dict = {}
    first = json.loads(ws.recv(timeout=10))
    assert isinstance(first, list) and len(first) == len(assets)
    for b in first:
        _apply(state, b)
    saw_change = False
    for _ in range(5):
        ws.send("PING")  # the protocol heartbeat: the REST checks below can outlast the 10 s idle limit
        now = sim.advance(7)["now"]
        wait_synced(sim, now)
        for msg in drain(ws):
            if isinstance(msg, dict):
                saw_change |= msg.get("event_type") == "price_change"
                _apply(state, msg)
        for a in assets:
            if a not in state:
                continue
            rest = loopback.get(sim.clob_url + "/book", params={"token_id": a})
            if rest.status_code == 404:
                continue
            r = rest.json()
            assert state[a][0] == {x["price"]: x["size"] for x in r["bids"]}
            assert state[a][1] == {x["price"]: x["size"] for x in r["asks"]}
    assert saw_change
    ws.send("PING")
    assert "PONG" in drain(ws)
    ws.send(json.dumps({"operation": "unsubscribe", "assets_ids": assets}))
    now = sim.advance(30)["now"]
    wait_synced(sim, now)
    assert [m for m in drain(ws) if m != "PONG"] == []
    ws.close()


def test_book_follows_trades(sim, markets):
    """Every trade triggers a fresh `book` (§4.5): after an asset's fills, a book carrying the newest fill as
    `last_trade_price`, byte-for-byte the REST summary at that clock (same hash)."""
    live = [m for m in markets if m["open"] and m["has_book"]][:12]
    assets = [t for m in live for t in m["token_ids"]]
    ws = ws_session(sim, assets, custom=False)
    json.loads(ws.recv(timeout=10))
    now = sim.advance(60)["now"]
    wait_synced(sim, now)
    frames = [f for f in drain(ws) if isinstance(f, dict)]
    ws.close()
    last_fill = {f["asset_id"]: i for i, f in enumerate(frames) if f.get("event_type") == "last_trade_price"}
    assert last_fill
    for a, i in last_fill.items():
        books = [f for f in frames[i + 1 :] if f.get("event_type") == "book" and f["asset_id"] == a]
        assert books, a
        assert books[-1]["last_trade_price"] == frames[i]["price"]
        rest = loopback.get(sim.clob_url + "/book", params={"token_id": a}).json()
        assert books[-1]["hash"] == rest["hash"] and books[-1]["timestamp"] == rest["timestamp"]
    traded = set(last_fill)
    assert {f["asset_id"] for f in frames if f.get("event_type") == "book"} <= traded | {
        f["asset_id"] for f in frames if f.get("event_type") == "tick_size_change"
    }


def test_mirrored_complement(ws_frames):
    """A change on one token comes mirrored on its complement (BUY at p, SELL at 1 - p, same size), in its own
    frame: the two tokens' books move at different moments (pm_sim.books.token_epoch)."""
    _, others = ws_frames
    pcs = [o for o in others if o.get("event_type") == "price_change"]
    assert pcs and all(len({ch["asset_id"] for ch in o["price_changes"]}) == 1 for o in pcs)
    seen = {
        (ch["asset_id"], ch["side"], round(float(ch["price"]), 4), ch["size"])
        for o in pcs
        for ch in o["price_changes"]
    }
    mirrored = sum(
        1
        for a, side, p, size in seen
        if side == "BUY" and any(b != a and (b, "SELL", round(1 - p, 4), size) in seen for b, *_ in seen)
    )
    assert mirrored > 0


def test_idle_client_dropped():
    from websockets.exceptions import ConnectionClosed

    from pm_sim.testing import running_sim

    with running_sim(markets=10, ws_idle_timeout=0.3) as s:
        ws = ws_session(s, [])
        try:
            for _ in range(100):  # frames before the drop, if any; each wait bounds only a hang
                ws.recv(timeout=HANG_S)
            raise AssertionError("not dropped")
        except ConnectionClosed:
            pass


def test_custom_feature_events():
    from pm_sim.testing import running_sim

    with running_sim(seed=3, markets=60, history_hours=1) as s:
        t0 = s.sim.now()
        closing = [
            m
            for m in s.world.markets
            if m.has_book and t0 + 60 < m.close_time < t0 + 6 * 3600 and m.created_at <= t0
        ]
        born = [m for m in s.world.markets if t0 < m.created_at < t0 + 6 * 3600]
        assert closing
        ws = ws_session(s, [t for m in closing for t in m.token_ids], custom=True)
        json.loads(ws.recv(timeout=10))
        target = max(m.close_time for m in closing) + 1
        if born:
            target = max(target, max(m.created_at for m in born) + 1)
        got = []
        t = t0
        while t < target:
            t = s.advance(min(1800, target - t + 0.5))["now"]
            wait_synced(s, t)
            ws.send("PING")
            got += [m for m in drain(ws) if isinstance(m, dict)]
        ws.close()
        resolved = [m for m in got if m.get("event_type") == "market_resolved"]
        assert {m["market"] for m in resolved} == {m.condition_id for m in closing}
        for r in resolved:
            mk = s.world.markets[s.world.by_condition[r["market"]]]
            assert r["winning_asset_id"] == mk.token_ids[mk.winner]
        news = [m for m in got if m.get("event_type") == "new_market"]
        assert {m["market"] for m in news} == {m.condition_id for m in born}
        for n in news:
            assert all(isinstance(v, str) for v in n["fee_schedule"].values() if not isinstance(v, bool))
        assert any(m.get("event_type") == "best_bid_ask" for m in got)


def test_ws_faults_drop_and_stall():
    from websockets.exceptions import ConnectionClosed

    from pm_sim.testing import running_sim

    with running_sim(markets=20, faults="ws_drop=0.3") as s:
        ws = ws_session(s, [])
        try:
            for _ in range(100):  # frames before the drop, if any; each wait bounds only a hang
                ws.recv(timeout=HANG_S)
            raise AssertionError("not dropped")
        except ConnectionClosed:
            pass
    with running_sim(markets=20, faults="ws_stall=0,ws_stall_pong") as s:
        ws = ws_session(s, [s.world.markets[0].token_ids[0]])
        ws.send("PING")
        assert drain(ws, quiet=0.5) == []  # socket open, silent: no book, no PONG
        ws.close()
