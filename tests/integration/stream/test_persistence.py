"""Frames → rows through the consumer's frame path and write_batch, on the real warehouse schema."""

from __future__ import annotations

import asyncio
import logging

import orjson
import psycopg
import pytest

from pm_sensors.stream import consumer as consumer_module
from pm_sensors.stream.consumer import StreamConsumer
from pm_sensors.stream.persistence import prepare_writer, write_batch
from pm_sensors.stream.settings import StreamSettings, settings_from_env
from tests.conftest import FIXTURES_DIR

FIXTURES = [
    "ws_market_book_snapshot_2026-08.json",
    "ws_market_book_v2_2026-10-05.json",
    "ws_market_last_trade_price_2024-08.json",
    "ws_market_price_change_legacy_2024-08.json",
    "ws_market_tick_size_change_2025-02.json",
]
V2_GAMMA_CID = "0x" + "ab" * 31  # 62 hex, as Gamma writes a Protocol V2 condition id


def consumer(url: str) -> StreamConsumer:
    return StreamConsumer(StreamSettings(ws_url="ws://unused"), url)


def counts(url: str) -> dict[str, int]:
    tables = [
        "ws_book_snapshots",
        "ws_price_changes",
        "ws_last_trades",
        "ws_tick_size_changes",
        "ws_best_bid_ask",
        "ws_new_markets",
        "market_resolutions",
    ]
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def custom_frames() -> list[bytes]:
    return [
        orjson.dumps(
            {
                "event_type": "best_bid_ask",
                "market": "0x" + "c" * 64,
                "asset_id": "11",
                "best_bid": "0.73",
                "best_ask": "0.77",
                "spread": "0.04",
                "timestamp": "1766789469958",
            }
        ),
        orjson.dumps(
            {
                "event_type": "new_market",
                "id": "1031769",
                "question": "Will it?",
                "market": V2_GAMMA_CID,
                "slug": "will-it",
                "assets_ids": ["21", "22"],
                "outcomes": ["Yes", "No"],
                "timestamp": "1791238858575",
                "fees_enabled": True,
            }
        ),
        orjson.dumps(
            {
                "event_type": "market_resolved",
                "market": "0x" + "d" * 64,
                "assets_ids": ["31", "32"],
                "winning_asset_id": "32",
                "winning_outcome": "No",
                "timestamp": "1791238859000",
            }
        ),
    ]


def test_every_recorded_frame_lands_once_even_when_written_twice(warehouse_url):
    frames = [(FIXTURES_DIR / f).read_bytes() for f in FIXTURES] + custom_frames()
    for _ in range(2):  # a second consumer sees the very same frames (a replayed stream): still stored once
        c = consumer(warehouse_url)
        for f in frames:
            c.handle_frame(f)
        with psycopg.connect(warehouse_url) as conn:
            write_batch(conn, c.buffer.take())
    assert counts(warehouse_url) == {
        "ws_book_snapshots": 2,
        "ws_price_changes": 1,
        "ws_last_trades": 1,
        "ws_tick_size_changes": 1,
        "ws_best_bid_ask": 1,
        "ws_new_markets": 1,
        "market_resolutions": 1,
    }
    with psycopg.connect(warehouse_url) as conn:
        v2 = conn.execute(
            "select version, condition_id, bids from ws_book_snapshots where version = 'v2'"
        ).fetchone()
        assert v2[0] == "v2" and len(v2[1]) == 66 and v2[2] == []
        assert conn.execute("select condition_id, assets_ids from ws_new_markets").fetchone() == (
            V2_GAMMA_CID + "00",
            ["21", "22"],
        )
        assert conn.execute("select status, winning_token_id, source from market_resolutions").fetchone() == (
            "resolved",
            "32",
            "ws",
        )
        price = conn.execute("select side, price, size, change_hash from ws_price_changes").fetchone()
        assert price == ("SELL", 0.514, 21574.08, "bf32b3746fff40c76c98021b7f3f07261169dd26")


def trade_frame(i: int, size: str = "10") -> bytes:
    return orjson.dumps(
        {
            "event_type": "last_trade_price",
            "asset_id": "7",
            "market": "0x" + "e" * 64,
            "timestamp": str(1_795_000_000_000 + i),
            "price": "0.5",
            "size": size,
            "side": "BUY",
            "transaction_hash": f"0x{i:064x}",
        }
    )


def change_frame(i: int) -> bytes:
    return orjson.dumps(
        {
            "event_type": "price_change",
            "market": "0x" + "e" * 64,
            "timestamp": str(1_795_000_000_000 + i),
            "price_changes": [
                {
                    "asset_id": "7",
                    "price": "0.5",
                    "size": str(i),
                    "side": "BUY",
                    "hash": f"{i:040x}",
                    "best_bid": "0.5",
                    "best_ask": "0.51",
                }
            ],
        }
    )


def test_restart_replaying_stored_ticks_inserts_only_the_new_ones(warehouse_url):
    # A restarted consumer has an empty dedupe window: its batch collides with stored rows, so the plain COPY is
    # refused and that table goes through ON CONFLICT, while the other tables of the same batch still land.
    first = consumer(warehouse_url)
    for i in range(5):
        first.handle_frame(trade_frame(i))
    with psycopg.connect(warehouse_url) as conn:
        assert write_batch(conn, first.buffer.take()) == {"ws_last_trades": 5}
    again = consumer(warehouse_url)
    for i in range(3, 8):  # 3 and 4 are stored already
        again.handle_frame(trade_frame(i))
        again.handle_frame(change_frame(i))
    with psycopg.connect(warehouse_url) as conn:
        assert write_batch(conn, again.buffer.take()) == {"ws_last_trades": 3, "ws_price_changes": 5}
        rows = conn.execute(
            "select server_ts, size, transaction_hash from ws_last_trades order by 1"
        ).fetchall()
    assert [r[2] for r in rows] == [f"0x{i:064x}" for i in range(8)]
    assert rows[0][0].timestamp() == 1_795_000_000.0 and rows[0][1] == 10.0
    assert counts(warehouse_url)["ws_price_changes"] == 5


def test_a_stop_during_a_routine_flush_still_ends_with_the_final_flush(warehouse_url, monkeypatch):
    # The stop arrives, with one more trade, while a routine flush is writing: the flush loop must come round for
    # the final flush, so the late trade is stored and the closing heartbeat carries the last data time (the next
    # consumer starts its restart gap there).
    c = consumer(warehouse_url)
    c._conn = c._connect_writer()
    c.handle_frame(trade_frame(1))
    real_write = consumer_module.write_batch
    writes: list[list[str]] = []

    async def go() -> None:
        loop, done = asyncio.get_running_loop(), asyncio.Event()

        def write_while_stopping(conn, batch):
            writes.append(sorted(batch))
            if len(writes) == 1:
                c.handle_frame(trade_frame(2))
                loop.call_soon_threadsafe(done.set)
                loop.call_soon_threadsafe(c._flush_now.set)
            return real_write(conn, batch)

        monkeypatch.setattr(consumer_module, "write_batch", write_while_stopping)
        c._flush_now.set()
        await asyncio.wait_for(c._flush_loop(done), timeout=60)

    asyncio.run(go())
    c._conn.close()
    assert len(writes) == 2
    assert counts(warehouse_url)["ws_last_trades"] == 2
    with psycopg.connect(warehouse_url) as conn:
        detail = conn.execute("select detail from heartbeats where part = 'stream_consumer'").fetchone()[0]
    assert detail["final"] is True
    assert detail["last_data_at"] is not None


def test_one_duplicate_inside_a_batch_is_stored_once(warehouse_url):
    # The same key twice in one batch (e.g. older than the dedupe window): the COPY is refused, ON CONFLICT keeps one.
    a, b = consumer(warehouse_url), consumer(warehouse_url)
    a.handle_frame(trade_frame(1))
    a.handle_frame(trade_frame(2))
    b.handle_frame(trade_frame(1))  # b's window has not seen it
    batch = a.buffer.take()
    batch["ws_last_trades"] += b.buffer.take()["ws_last_trades"]
    with psycopg.connect(warehouse_url) as conn:
        assert write_batch(conn, batch) == {"ws_last_trades": 2}
    assert counts(warehouse_url)["ws_last_trades"] == 2


def test_an_unstorable_number_costs_its_event_not_its_batch(warehouse_url):
    c = consumer(warehouse_url)
    c.handle_frame(trade_frame(1))
    c.handle_frame(trade_frame(2, size="lots"))
    c.handle_frame(trade_frame(3, size="1_000"))  # Python reads it; stored as the number it means
    with psycopg.connect(warehouse_url) as conn:
        assert write_batch(conn, c.buffer.take()) == {"ws_last_trades": 2, "raw_payloads": 1}
        sizes = conn.execute("select size from ws_last_trades order by server_ts").fetchall()
        kept = conn.execute(
            "select source, endpoint, body::jsonb->>'size', error from raw_payloads"
        ).fetchall()
    assert sizes == [(10.0,), (1000.0,)] and c.stats.bad_frames == 1
    assert [k[:3] for k in kept] == [("ws", "ws market", "lots")] and "lots" in kept[0][3]


@pytest.mark.parametrize(
    "cid",
    [
        "0x" + "E" * 64,
        "0x" + "e" * 63,
        "0x" + "e" * 63 + "g",
        "0X" + "e" * 64,
        "0x" + "e" * 63 + "é",
        "0x" + "e" * 64 + "\n",
    ],
)
def test_tick_tables_still_refuse_a_malformed_condition_id(warehouse_url, cid):
    with psycopg.connect(warehouse_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "insert into ws_price_changes (server_ts, token_id, side, price, condition_id, size, received_at)"
            " values (now(), '7', 'BUY', 0.5, %s, 1, now())",
            (cid,),
        )


def test_new_market_is_watched_and_resolved_market_dropped():
    c = consumer("postgresql://unused")
    c.tokens = ["31", "32"]
    for f in custom_frames():
        c.handle_frame(f)
    assert c.tokens == ["21", "22"]


def test_malformed_frames_are_logged_and_counted_never_raised(caplog):
    c = consumer("postgresql://unused")
    bad = [
        b"{oops",
        b"[1, 2]",
        orjson.dumps({"event_type": "book", "asset_id": "1"}),
        orjson.dumps(
            {
                "event_type": "last_trade_price",
                "asset_id": "1",
                "market": "0x12",
                "timestamp": "1",
                "price": "0.5",
                "size": "1",
                "side": "BUY",
            }
        ),  # a condition id the schema refuses
        orjson.dumps({"event_type": "comment_posted", "timestamp": "1"}),
    ]
    with caplog.at_level(logging.WARNING, logger="pm_intel.stream"):
        for f in bad:
            c.handle_frame(f)
    assert c.stats.bad_frames == 5 and c.stats.unknown_events == 1 and c.stats.messages == 0
    assert sum("bad frame skipped" in r.getMessage() for r in caplog.records) == 5
    taken = c.buffer.take()
    # No row reaches a tick table; each refused event is kept as evidence for raw_payloads instead.
    assert list(taken) == ["raw_payloads"] and len(taken["raw_payloads"]) == 5 == c.stats.quarantined


def test_settings_from_env():
    s = settings_from_env(
        {
            "POLYMARKET_WS_URL": "ws://127.0.0.1:1/ws/market",
            "PM_INTEL_STREAM_SELECTION": "list",
            "PM_INTEL_STREAM_TOKENS": "1, 2,3",
            "PM_INTEL_STREAM_STALL_TIMEOUT_S": "12.5",
            "PM_INTEL_STREAM_SUBSCRIBE_BATCH": "50",
        }
    )
    assert (s.ws_url, s.selection, s.tokens, s.stall_timeout_s, s.subscribe_batch) == (
        "ws://127.0.0.1:1/ws/market",
        "list",
        ("1", "2", "3"),
        12.5,
        50,
    )
    with pytest.raises(ValueError, match="PM_INTEL_STREAM_TOP_N"):
        settings_from_env({"PM_INTEL_STREAM_TOP_N": "many"})
    with pytest.raises(ValueError, match="selection"):
        settings_from_env({"PM_INTEL_STREAM_SELECTION": "everything"})


def test_tick_writer_commits_asynchronously_unless_configured(warehouse_url):
    assert settings_from_env({}).synchronous_commit == "off"
    durable = settings_from_env({"PM_INTEL_STREAM_SYNCHRONOUS_COMMIT": "on"})
    with pytest.raises(ValueError, match="synchronous_commit"):
        settings_from_env({"PM_INTEL_STREAM_SYNCHRONOUS_COMMIT": "sometimes"})
    for wanted in ("off", durable.synchronous_commit):
        with psycopg.connect(warehouse_url) as conn:
            prepare_writer(conn, wanted)
            assert conn.execute("show synchronous_commit").fetchone() == (wanted,)
