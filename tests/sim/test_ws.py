"""Websocket market channel: deltas converge to REST /book; PING/PONG; unsubscribe; custom events."""

from __future__ import annotations

import json

import httpx

from .conftest import drain, wait_synced, ws_session


def _apply(state: dict, msg: dict) -> None:
    if msg.get("event_type") == "book":
        state[msg["asset_id"]] = ({x["price"]: x["size"] for x in msg["bids"]},
                                  {x["price"]: x["size"] for x in msg["asks"]})
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
        now = sim.advance(7)["now"]
        wait_synced(sim, now)
        for msg in drain(ws):
            if isinstance(msg, dict):
                saw_change |= msg.get("event_type") == "price_change"
                _apply(state, msg)
        for a in assets:
            if a not in state:
                continue
            rest = httpx.get(sim.clob_url + "/book", params={"token_id": a})
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


def test_mirrored_complement(ws_frames):
    _, others = ws_frames
    pcs = [o for o in others if o.get("event_type") == "price_change"]
    mirrored = 0
    for o in pcs:
        by = {}
        for ch in o["price_changes"]:
            by.setdefault(ch["asset_id"], []).append(ch)
        if len(by) == 2:
            mirrored += 1
    assert mirrored > 0


def test_idle_client_dropped():
    from websockets.exceptions import ConnectionClosed

    from pm_sim.testing import running_sim

    with running_sim(markets=10, ws_idle_timeout=0.3) as s:
        ws = ws_session(s, [])
        try:
            for _ in range(100):
                ws.recv(timeout=1)
            raise AssertionError("not dropped")
        except ConnectionClosed:
            pass
