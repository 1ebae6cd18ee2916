"""`pm-intel sim --replay DIR`: the recording served through pm_sim's contract, read by the production clients."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import dagster as dg
import orjson
import pytest
import websockets.sync.client

from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.gamma import GammaClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades.assets import trades
from pm_sim.recording import Recording
from pm_sim.testing import running_replay
from tests import loopback
from tests.support.recording import read_lines, recorded_fills
from tests.support.trades import stored_fills


def test_ingestion_reads_the_recorded_trades_back(sim_recording, warehouse_url):
    folder = sim_recording.folder
    span = Recording(folder).span()
    with running_replay(folder, speed=0.0, start=span[1]) as replay:
        res = {
            "warehouse": WarehouseResource(database_url=warehouse_url),
            "gamma": GammaClient(base_url=replay.gamma_url),
            "data_api": DataApiClient(base_url=replay.data_url),
        }
        assert dg.materialize([events, markets_and_tokens], resources=res).success
        first = datetime.fromtimestamp(Recording(folder).manifest["history_from"], UTC).date()
        day = first
        while day <= datetime.fromtimestamp(span[1], UTC).date():
            assert dg.materialize([trades], resources=res, partition_key=day.isoformat()).success
            day += timedelta(days=1)
        emitted = loopback.get(replay.admin_url + "/emitted/trades", params={"rows": 1}).json()
    stored = stored_fills(warehouse_url)
    assert stored == recorded_fills(folder)
    assert Counter(tuple(r.split("|")[:7]) for r in emitted["rows"]) == stored
    assert emitted["count"] == sum(stored.values()) > 0


def test_replay_clock_is_the_recordings_and_steps_by_admin(sim_recording):
    folder = sim_recording.folder
    rows = [line["object"] for line in read_lines(folder, "data_trades")]
    newest = max(r["timestamp"] for r in rows)
    with running_replay(folder, speed=0.0, start=newest - 300) as replay:
        cid = rows[0]["condition_id"]

        def visible() -> int:
            n, cursor = 0, None
            while True:
                params = {"condition": cid, "limit": 1000, **({"cursor": cursor} if cursor else {})}
                page = loopback.get(replay.data_url + "/v2/trades", params=params).json()
                n += len(page["data"])
                cursor = page["pagination"]["next_cursor"]
                if cursor is None:
                    return n

        before = visible()
        assert replay.state()["now"] == newest - 300
        replay.advance(300)
        after = visible()
    in_market = [r for r in rows if r["condition_id"] == cid]
    assert before == sum(1 for r in in_market if r["timestamp"] <= newest - 300)
    assert after == len(in_market) > before


def test_websocket_sends_recorded_books_on_subscribe(sim_recording):
    folder = sim_recording.folder
    span = Recording(folder).span()
    frames = [orjson.loads(line["frame"]) for line in read_lines(folder, "ws_market")]
    books = [b for f in frames for b in (f if isinstance(f, list) else [f]) if b.get("event_type") == "book"]
    token = books[-1]["asset_id"]
    with running_replay(folder, speed=0.0, start=span[1]) as replay:
        with websockets.sync.client.connect(replay.ws_url) as ws:
            ws.send(orjson.dumps({"assets_ids": [token], "type": "market"}).decode())
            dump = orjson.loads(ws.recv(timeout=60))
            ws.send("PING")
            while ws.recv(timeout=60) != "PONG":
                pass
    newest = [b for b in books if b["asset_id"] == token][-1]
    assert dump == [newest], "the newest recorded book of the asset, unchanged, as one array frame"


@pytest.mark.parametrize("drop", [["clob_books", "data_activity"]])
def test_sim_replay_says_which_sources_are_missing_and_serves_the_rest(drop, recording_copy):
    for source in drop:
        (recording_copy / f"{source}.jsonl").unlink()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pm_sim", "--replay", str(recording_copy), "--speed", "0", "--print-json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        urls = orjson.loads(proc.stdout.readline())
        said = [proc.stderr.readline().strip() for _ in range(1 + len(drop))]
        assert said[0].startswith(f"replay: {recording_copy}")
        assert [line.split(":")[1].strip() for line in said[1:]] == [f"no {s} in the recording" for s in drop]
        wallet = read_lines(recording_copy, "data_trades")[0]["object"]["proxy_wallet"]
        activity = loopback.get(urls["data_url"] + "/v2/activity", params={"user": wallet}).json()
        assert activity["data"] == [] and activity["pagination"]["next_cursor"] is None
        assert loopback.get(urls["clob_url"] + "/book", params={"token_id": "123"}).status_code == 404
        trades_page = loopback.get(urls["data_url"] + "/v2/trades", params={"limit": 5}).json()
        assert len(trades_page["data"]) == 5
        state = loopback.get(urls["admin_url"] + "/state").json()
        assert state["recording"]["missing"] == drop and state["speed"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
