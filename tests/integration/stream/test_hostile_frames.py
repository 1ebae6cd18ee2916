"""Websocket frames are not trusted: a bad value is refused per event (per entry in price_changes[]),
counted, logged masked and quarantined; a row the warehouse refuses costs itself; a warehouse outage
holds the rows instead of dropping them."""

from __future__ import annotations

import asyncio
import logging

import orjson
import psycopg
import pytest

from pm_sensors.stream import consumer as consumer_module
from pm_sensors.stream.consumer import StreamConsumer
from pm_sensors.stream.frames import parse_frame
from pm_sensors.stream.persistence import write_batch
from pm_sensors.stream.settings import StreamSettings

CID = "0x" + "e" * 64


def consumer(url: str) -> StreamConsumer:
    return StreamConsumer(StreamSettings(ws_url="ws://unused"), url)


def entry(i: int, price: object = "0.5", size: object = "10", asset: object = "7") -> dict:
    return {"asset_id": asset, "price": price, "size": size, "side": "BUY", "hash": f"{i:040x}"}


def change_frame(ts: int, entries: list[dict]) -> bytes:
    return orjson.dumps(
        {"event_type": "price_change", "market": CID, "timestamp": str(ts), "price_changes": entries}
    )


def trade(ts: int, **over) -> dict:
    return {
        "event_type": "last_trade_price",
        "asset_id": "7",
        "market": CID,
        "timestamp": str(ts),
        "price": "0.5",
        "size": "10",
        "side": "BUY",
        "transaction_hash": f"0x{ts:064x}",
        **over,
    }


def stored(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


@pytest.mark.parametrize(
    ("price", "size", "field"),
    [
        ("NaN", "10", "price"),
        ("0.5", "Infinity", "size"),
        ("-0.1", "10", "price"),
        ("0.5", "-3", "size"),
        ("0.5", "1e400", "size"),
        ("٠.٥", "10", "price"),
    ],
)
def test_a_non_finite_or_negative_entry_is_refused_alone_and_quarantined(
    warehouse_url, price, size, field, caplog
):
    c = consumer(warehouse_url)
    with caplog.at_level(logging.WARNING, logger="pm_intel.stream"):
        c.handle_frame(change_frame(1_795_000_000_000, [entry(1), entry(2, price, size), entry(3, "0.6")]))
    with psycopg.connect(warehouse_url) as conn:
        assert write_batch(conn, c.buffer.take()) == {"ws_price_changes": 2, "raw_payloads": 1}
    assert stored(warehouse_url, "select price, size from ws_price_changes order by price") == [
        (0.5, 10.0),
        (0.6, 10.0),
    ]
    [(source, endpoint, body, error)] = stored(
        warehouse_url, "select source, endpoint, body, error from raw_payloads"
    )
    assert (source, endpoint) == ("ws", "ws market") and f"ValueError: {field} " in error
    assert orjson.loads(body)["hash"] == f"{2:040x}" and c.stats.bad_frames == 1 == c.stats.quarantined
    assert any("bad frame skipped" in r.getMessage() and field in r.getMessage() for r in caplog.records)


def test_a_json_nan_literal_costs_its_event_not_its_frame():
    frame = (
        b'[{"event_type":"last_trade_price","asset_id":"7","market":"'
        + CID.encode()
        + (b'","timestamp":"1795000000001","price":NaN,"size":"1","side":"BUY"},')
        + orjson.dumps(trade(1_795_000_000_002))
        + b"]"
    )
    parsed = parse_frame(frame)
    assert [e.ts_ms for e in parsed.events] == [1_795_000_000_002] and len(parsed.refused) == 1


@pytest.mark.parametrize("asset", [{"id": 7}, [7, 8], 7.5, True, None, "７", "7\x00"])
def test_an_asset_id_that_is_not_a_decimal_string_is_refused_at_parse_and_its_batch_lands(
    warehouse_url, asset
):
    c = consumer(warehouse_url)
    c.handle_frame(orjson.dumps([trade(1_795_000_000_001), trade(1_795_000_000_002, asset_id=asset)]))
    c.handle_frame(orjson.dumps(trade(1_795_000_000_003)))
    with psycopg.connect(warehouse_url) as conn:
        assert write_batch(conn, c.buffer.take()) == {"ws_last_trades": 2, "raw_payloads": 1}
    assert [r[0] for r in stored(warehouse_url, "select token_id from ws_last_trades")] == ["7", "7"]


def test_overflowing_timestamps_and_hashes_are_refused_at_parse():
    bad = [
        trade(1_795_000_000_001, timestamp="1" * 30),
        trade(1_795_000_000_002, timestamp=-5),
        trade(1_795_000_000_003, transaction_hash="0xnothex"),
        trade(1_795_000_000_004, side="HOLD"),
        trade(1_795_000_000_005, market="0x" + "١" * 64),
    ]
    parsed = parse_frame(orjson.dumps(bad + [trade(1_795_000_000_006)]))
    assert [e.ts_ms for e in parsed.events] == [1_795_000_000_006] and len(parsed.refused) == 5


def test_a_row_the_warehouse_refuses_is_isolated_and_quarantined_and_the_rest_written(warehouse_url):
    c = consumer(warehouse_url)
    for i in range(1, 40):
        c.handle_frame(orjson.dumps(trade(1_795_000_000_000 + i)))
    c.handle_frame(change_frame(1_795_000_000_100, [entry(1)]))
    batch = c.buffer.take()
    # A value no parse-time check caught: the condition id column's CHECK refuses it.
    bad = list(batch["ws_last_trades"][17])
    bad[6] = "0x12"
    batch["ws_last_trades"][17] = tuple(bad)
    with psycopg.connect(warehouse_url) as conn:
        assert write_batch(conn, batch) == {"ws_last_trades": 38, "ws_price_changes": 1, "raw_payloads": 1}
    [(endpoint, error, body)] = stored(warehouse_url, "select endpoint, error, body from raw_payloads")
    assert endpoint == "write ws_last_trades" and "CheckViolation" in error
    assert orjson.loads(body)["condition_id"] == "0x12"


def test_a_warehouse_outage_holds_the_rows_until_it_is_back(warehouse_url, monkeypatch):
    c = consumer(warehouse_url)
    c._conn = c._connect_writer()
    real_write, failures = consumer_module.write_batch, []

    def unreachable_six_times(conn, batch):
        if len(failures) < 6:
            failures.append(1)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real_write(conn, batch)

    monkeypatch.setattr(consumer_module, "write_batch", unreachable_six_times)

    async def go():
        for i in range(8):
            c.handle_frame(orjson.dumps(trade(1_795_000_000_000 + i)))
            await c.flush()

    asyncio.run(go())
    c._conn.close()
    assert len(failures) == 6 and c.stats.flush_failures == 6 and c.stats.rows_dropped == 0
    assert len(stored(warehouse_url, "select 1 from ws_last_trades")) == 8
