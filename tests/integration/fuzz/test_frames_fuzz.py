"""Fuzz: the market-channel frame parser and the consumer's frame path under hostile frames.

Properties:
- `parse_frame` never raises, on arbitrary bytes and on recorded events with fields mutated; every event it
  returns has its values in their domain (ASCII decimal asset ids, 66-character condition ids, prices in
  [0, 1], finite sizes >= 0, millisecond timestamps before 2100);
- a frame mixing hostile events (and hostile price_changes[] entries) with good ones yields every good one;
- the consumer's frame path never raises, every good event of a batch lands in the warehouse beside the
  hostile ones, each refused one is in raw_payloads, and no planted credential reaches a log unmasked.
Examples per run (CI): 300 for the parser on raw bytes, 150 for mutated events, 25 through the warehouse.
"""

from __future__ import annotations

import json
import math

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm_sensors.stream.consumer import StreamConsumer
from pm_sensors.stream.frames import Book, LastTrade, PriceChange, parse_frame
from pm_sensors.stream.persistence import write_batch
from pm_sensors.stream.settings import StreamSettings
from tests.support.payload_mutations import (
    assert_nothing_unmasked,
    captured_logs,
    fixture,
    fuzz_settings,
    hostile,
    mutated,
)

pytestmark = pytest.mark.fuzz

EVENTS = [
    {**fixture("ws_market_book_snapshot_2026-08.json"), "event_type": "book"},
    fixture("ws_market_book_v2_2026-10-05.json")[0],
    fixture("ws_market_last_trade_price_2024-08.json"),
    fixture("ws_market_price_change_legacy_2024-08.json"),
    fixture("ws_market_tick_size_change_2025-02.json"),
]
CURRENT_CHANGE = {
    "market": "0x" + "c" * 64,
    "timestamp": "1795000000000",
    "event_type": "price_change",
    "price_changes": [
        {"asset_id": "11", "price": "0.5", "size": "200", "side": "BUY", "hash": "h1", "best_bid": "0.5"},
        {"asset_id": "12", "price": "0.5", "size": "200", "side": "SELL", "hash": "h2", "best_ask": "0.5"},
    ],
}
ENTRY = CURRENT_CHANGE["price_changes"][0]


def _in_domain(number: str | None, high: float = math.inf) -> bool:
    return number is None or (
        number.isascii() and 0.0 <= float(number) <= high and math.isfinite(float(number))
    )


def _assert_event_in_domain(ev: object) -> None:
    for asset in [getattr(ev, "asset_id", None)] + [c.asset_id for c in getattr(ev, "changes", [])]:
        assert asset is None or (asset.isascii() and asset.isdigit())
    assert len(ev.market) == 66 and 0 <= ev.ts_ms < 4_102_444_800_000  # type: ignore[attr-defined]
    if isinstance(ev, PriceChange):
        assert all(
            _in_domain(c.price, 1) and _in_domain(c.size) and c.side in ("BUY", "SELL") for c in ev.changes
        )
    if isinstance(ev, LastTrade):
        assert _in_domain(ev.price, 1) and _in_domain(ev.size)
    if isinstance(ev, Book):
        assert all(_in_domain(lv["price"], 1) and _in_domain(lv["size"]) for lv in (*ev.bids, *ev.asks))


def _dump(doc: object) -> bytes:
    return json.dumps(doc).encode()  # NaN / Infinity literals and huge integers, as a hostile server might


@fuzz_settings(300)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_arbitrary_bytes_never_raise(raw):
    parsed = parse_frame(raw)
    assert len(parsed.errors) == len(parsed.refused)


hostile_events = st.one_of(
    *(mutated(e) for e in EVENTS),
    mutated(CURRENT_CHANGE),
    st.builds(
        lambda entry: {**CURRENT_CHANGE, "price_changes": [entry, ENTRY]},
        mutated(ENTRY),
    ),
    hostile,
)


@fuzz_settings(150)
@given(st.lists(hostile_events, min_size=1, max_size=4), st.integers(0, 4))
def test_hostile_events_cost_themselves_only_and_what_passes_is_in_domain(bad, slot):
    good = {**fixture("ws_market_last_trade_price_2024-08.json"), "timestamp": "1795000000123"}
    frame = bad[:slot] + [good] + bad[slot:]
    with captured_logs() as lines:
        parsed = parse_frame(_dump(frame))
    assert any(isinstance(e, LastTrade) and e.ts_ms == 1_795_000_000_123 for e in parsed.events)
    for ev in parsed.events:
        _assert_event_in_domain(ev)
    assert len(parsed.errors) == len(parsed.refused)
    assert_nothing_unmasked(lines)


def _good_trades(base_ms: int) -> list[dict]:
    return [
        {
            "event_type": "last_trade_price",
            "asset_id": "7",
            "market": "0x" + "e" * 64,
            "timestamp": str(base_ms + i),
            "price": "0.5",
            "size": "10",
            "side": "BUY",
            "transaction_hash": f"0x{base_ms + i:064x}",
        }
        for i in range(5)
    ]


_runs = iter(range(10**6))


@fuzz_settings(25)
@given(st.lists(hostile_events, min_size=1, max_size=6))
def test_the_consumer_stores_every_good_event_beside_hostile_ones(warehouse_url, bad):
    base_ms = 1_795_000_000_000 + 1_000 * next(_runs)  # each example's good trades are new rows
    good = _good_trades(base_ms)
    consumer = StreamConsumer(StreamSettings(ws_url="ws://unused"), warehouse_url)
    with captured_logs() as lines:
        consumer.handle_frame(_dump(bad[:3] + good[:3]))
        consumer.handle_frame(_dump(good[3:] + bad[3:]))
        with psycopg.connect(warehouse_url) as conn:
            written = write_batch(conn, consumer.buffer.take())
            stored = conn.execute(
                "select count(*) from ws_last_trades where server_ts >= to_timestamp(%s / 1000.0) "
                "and server_ts < to_timestamp(%s / 1000.0) and token_id = '7'",
                (base_ms, base_ms + 5),
            ).fetchone()[0]
    assert stored == 5
    assert written.get("raw_payloads", 0) == consumer.stats.quarantined
    assert_nothing_unmasked(lines)
