"""Real books offline: resolvedkit's 18 BTC 15-minute markets as a recording, through the stream consumer
(over the replay's websocket) and through `pm-intel replay --json`.

Issue 16's goal on these books: every apparent arbitrage window (a fresh snapshot against its sibling's stale
one, or a book crossed inside its own snapshot) is kept suppressed with its reason; none is alerted."""

from __future__ import annotations

import json
import sys

import dagster as dg
import orjson
import psycopg
import pytest

from bench.resolvedkit_recording import convert
from pm_assets.cli.main import main
from pm_assets.markets.assets import events, markets_and_tokens
from pm_assets.resources.gamma import GammaClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.stream.settings import StreamSettings
from pm_sim.recording import Recording
from pm_sim.testing import running_replay
from tests.integration.recording.test_replay_cli import PER_TABLE, TABLES, market_days
from tests.support.recording import read_lines
from tests.support.stream import ConsumerThread


@pytest.fixture(scope="module")
def resolvedkit_recording(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resolvedkit") / "rec"
    convert(folder)
    return folder


def test_conversion_follows_the_contract(resolvedkit_recording):
    rec = Recording(resolvedkit_recording)
    assert rec.present() == ["gamma_markets", "gamma_events", "data_resolutions", "ws_market"]
    frames = read_lines(resolvedkit_recording, "ws_market")
    assert len(frames) == 38_333, "one book frame per real snapshot"
    book = orjson.loads(frames[0]["frame"])
    assert book["event_type"] == "book" and int(book["timestamp"]) / 1000 == frames[0]["received_at"]
    prices = [float(x["price"]) for x in book["bids"]]
    assert prices == sorted(prices), "bids ascending, best last, as upstream"
    assert len(read_lines(resolvedkit_recording, "data_resolutions")) == 18
    assert rec.manifest["derived"], "the derived fields are listed"


def _universe(folder, url: str, replay) -> None:
    res = {"warehouse": WarehouseResource(database_url=url), "gamma": GammaClient(base_url=replay.gamma_url)}
    assert dg.materialize([events, markets_and_tokens], resources=res).success


def test_stream_consumer_stores_the_replayed_books(resolvedkit_recording, warehouse_url):
    """The production consumer, subscribed over the replay's websocket, stores every recorded book of its
    tokens from its subscription through five replayed minutes, each once."""
    start, _ = Recording(resolvedkit_recording).span()
    t0 = start + 900
    with running_replay(resolvedkit_recording, speed=0.0, start=t0) as replay:
        _universe(resolvedkit_recording, warehouse_url, replay)
        settings = StreamSettings(
            ws_url=replay.ws_url, selection="active", stall_timeout_s=600, pong_timeout_s=600
        )
        with ConsumerThread(settings, warehouse_url) as thread:
            thread.wait_for(
                lambda: sum(c["assets"] for c in replay.state()["ws_connections"]) > 0, "subscribed"
            )
            tokens = set(thread.consumer.tokens)
            replay.advance(300)
            expected = _expected_books(resolvedkit_recording, tokens, t0, t0 + 300)

            def stored() -> set:
                with psycopg.connect(warehouse_url) as conn:
                    rows = conn.execute(
                        "select token_id, (extract(epoch from server_ts) * 1000)::bigint, book_hash"
                        " from ws_book_snapshots"
                    ).fetchall()
                return {(t, str(ms), h) for t, ms, h in rows}

            thread.wait_for(lambda: stored() >= expected, "every replayed book stored")
    assert tokens and stored() == expected


def _expected_books(folder, tokens: set[str], t0: float, t1: float) -> set:
    """Each token's newest book at t0 (the subscribe dump) and every book received in (t0, t1]."""
    newest: dict[str, tuple] = {}
    later = set()
    for line in read_lines(folder, "ws_market"):
        b = orjson.loads(line["frame"])
        key = (b["asset_id"], b["timestamp"], b["hash"])
        if b["asset_id"] not in tokens:
            continue
        if line["received_at"] <= t0:
            newest[b["asset_id"]] = key
        elif line["received_at"] <= t1:
            later.add(key)
    return set(newest.values()) | later


def test_replay_json_reports_arbitrage_with_its_suppressed_reasons(
    resolvedkit_recording, warehouse_url, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    assert main(["replay", str(resolvedkit_recording), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["signals"]) == TABLES and all(set(s) == PER_TABLE for s in out["signals"].values())
    assert (out["trades"], out["markets"]) == (0, 18)
    assert out["market_days"] == market_days(resolvedkit_recording) == 18
    arb = out["signals"]["arbitrage_windows"]
    assert arb["alerts_per_1k_trades"] is None, "no trades: no denominator"
    assert arb["alerts_per_market_day"] == round(arb["alerts"] / 18, 4)
    windows = arb["alerts"] + sum(arb["suppressed"].values())
    assert windows > 0, "real books hold apparent windows; each is alerted or suppressed with a reason"
    assert arb["alerts"] == 0, "no window on these books is one consistent, capturable instant"
    assert set(arb["suppressed"]) <= {"stale_leg", "crossed_book", "not_capturable"}
    assert arb["suppressed"].get("crossed_book", 0) > 0 and arb["suppressed"].get("stale_leg", 0) > 0
    print(f"resolvedkit arbitrage_windows: {arb}", file=sys.stderr)

    assert (
        main(
            [
                "replay",
                str(resolvedkit_recording),
                "--json",
                "--threshold",
                "arbitrage.arbitrage_min_edge=0.5",
            ]
        )
        == 0
    )
    strict = json.loads(capsys.readouterr().out)["signals"]["arbitrage_windows"]
    assert strict["alerts"] == 0 and strict["suppressed"] == {}, "the threshold reached the detector"
