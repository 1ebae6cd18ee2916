"""frames.py and books.py on the recorded market-channel payloads and small hand-made sequences."""

from __future__ import annotations

import json
import random

import orjson
import pytest

from pm_sensors.stream.books import BookSet, OrderBook, levels_of
from pm_sensors.stream.frames import (
    Book,
    FrameError,
    LastTrade,
    LevelChange,
    MarketResolved,
    NewMarket,
    PriceChange,
    TickSizeChange,
    normalize_condition_id,
    parse_frame,
)
from tests.conftest import FIXTURES_DIR


def fixture_text(name: str) -> str:
    return (FIXTURES_DIR / name).read_text()


def test_recorded_book_snapshot_parses_and_becomes_the_book():
    parsed = parse_frame(fixture_text("ws_market_book_snapshot_2026-08.json"))
    assert not parsed.errors
    [book] = parsed.events
    assert isinstance(book, Book) and book.ts_ms == 1786604072222 and book.tick_size == "0.01"
    books = BookSet()
    assert books.apply_snapshot(book)
    raw = json.loads(fixture_text("ws_market_book_snapshot_2026-08.json"))
    assert books.get(book.asset_id).levels() == levels_of(raw)
    assert books.get(book.asset_id).best_bid() == 0.07
    assert books.get(book.asset_id).best_ask() == 0.08


def test_v2_book_array_frame_keeps_version_and_66_char_market():
    parsed = parse_frame(fixture_text("ws_market_book_v2_2026-10-05.json"))
    [book] = parsed.events
    assert book.version == "v2" and len(book.market) == 66
    assert normalize_condition_id(book.market) == book.market
    assert (book.bids, book.asks) == ([], [])


def test_legacy_flat_price_change_is_one_level_change():
    parsed = parse_frame(fixture_text("ws_market_price_change_legacy_2024-08.json"))
    [pc] = parsed.events
    assert isinstance(pc, PriceChange) and pc.ts_ms == 1723967931411
    [c] = pc.changes
    assert (c.side, c.price, c.size, c.hash) == (
        "SELL",
        "0.514",
        "21574.08",
        "bf32b3746fff40c76c98021b7f3f07261169dd26",
    )
    assert c.asset_id.startswith("4833104")


def test_last_trade_and_tick_size_fixtures():
    [lt] = parse_frame(fixture_text("ws_market_last_trade_price_2024-08.json")).events
    assert isinstance(lt, LastTrade) and (lt.price, lt.size, lt.side, lt.fee_rate_bps) == (
        "0.491",
        "85.36",
        "SELL",
        "0",
    )
    [tc] = parse_frame(fixture_text("ws_market_tick_size_change_2025-02.json")).events
    assert isinstance(tc, TickSizeChange) and (tc.old_tick_size, tc.new_tick_size) == ("0.01", "0.001")


def test_pong_unknown_and_malformed_frames_never_raise():
    assert parse_frame("PONG").pong
    assert parse_frame(b"PONG").pong
    bad = parse_frame("{not json")
    assert bad.errors and not bad.events
    mixed = parse_frame(
        orjson.dumps(
            [
                {"event_type": "something_new", "x": 1},
                {"event_type": "book", "asset_id": "1"},  # no market/timestamp
                "scalar",
                {
                    "event_type": "last_trade_price",
                    "asset_id": "1",
                    "market": "0x" + "a" * 64,
                    "timestamp": "5",
                    "price": "0.5",
                    "size": "1",
                    "side": "BUY",
                },
            ]
        )
    )
    assert mixed.unknown == 1 and len(mixed.errors) == 2 and len(mixed.events) == 1


def test_current_price_changes_schema_with_new_market_and_resolution():
    cid = "0x" + "b" * 64
    frame = orjson.dumps(
        [
            {
                "market": cid,
                "timestamp": "100",
                "event_type": "price_change",
                "price_changes": [
                    {
                        "asset_id": "1",
                        "price": "0.5",
                        "size": "200",
                        "side": "BUY",
                        "hash": "h1",
                        "best_bid": "0.5",
                        "best_ask": "1",
                    },
                    {
                        "asset_id": "2",
                        "price": "0.5",
                        "size": "200",
                        "side": "SELL",
                        "hash": "h2",
                        "best_bid": "0",
                        "best_ask": "0.5",
                    },
                ],
            },
            {
                "event_type": "new_market",
                "market": cid,
                "timestamp": "101",
                "assets_ids": ["7", "8"],
                "id": "9",
                "question": "Q?",
                "outcomes": ["Yes", "No"],
            },
            {
                "event_type": "market_resolved",
                "market": cid,
                "timestamp": "102",
                "winning_asset_id": "7",
                "winning_outcome": "Yes",
                "assets_ids": ["7", "8"],
            },
        ]
    )
    pc, nm, mr = parse_frame(frame).events
    assert [c.asset_id for c in pc.changes] == ["1", "2"] and pc.changes[0].best_ask == "1"
    assert isinstance(nm, NewMarket) and nm.assets_ids == ["7", "8"]
    assert isinstance(mr, MarketResolved) and mr.winning_asset_id == "7"


def test_condition_id_normalisation():
    assert normalize_condition_id("0x" + "AB" * 31) == "0x" + "ab" * 31 + "00"
    with pytest.raises(FrameError):
        normalize_condition_id("0x1234")


def _book(ts: int, bids: dict, asks: dict, h: str = "") -> Book:
    return Book(
        "1",
        "0x" + "c" * 64,
        ts,
        h or f"h{ts}",
        [{"price": p, "size": s} for p, s in bids.items()],
        [{"price": p, "size": s} for p, s in asks.items()],
    )


def _change(side: str, price: str, size: str, h: str = "x") -> LevelChange:
    return LevelChange("1", side, price, size, h)


def test_deltas_are_absolute_and_zero_deletes():
    book = OrderBook("1")
    book.apply_snapshot(_book(10, {"0.4": "10", "0.5": "5"}, {"0.6": "7"}))
    assert book.apply_change(11, _change("BUY", "0.5", "8"))
    assert book.apply_change(12, _change("BUY", "0.4", "0"))
    assert book.apply_change(13, _change("SELL", "0.55", "3"))
    assert book.levels() == ([(0.5, 8.0)], [(0.55, 3.0), (0.6, 7.0)])


def test_stale_and_reordered_updates_converge():
    snapshot = _book(10, {"0.4": "10"}, {"0.6": "7"})
    updates = [
        (11, _change("BUY", "0.4", "12")),
        (12, _change("BUY", "0.4", "0")),
        (13, _change("BUY", "0.45", "3")),
        (14, _change("SELL", "0.6", "9")),
        (15, _change("BUY", "0.45", "4")),
    ]
    ordered = OrderBook("1")
    ordered.apply_snapshot(snapshot)
    for ts, c in updates:
        ordered.apply_change(ts, c)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = OrderBook("1")
        events = [("snap", 10, snapshot)] + [("chg", ts, c) for ts, c in updates] * 2  # duplicates too
        rng.shuffle(events)
        for kind, ts, payload in events:
            if kind == "snap":
                shuffled.apply_snapshot(payload)
            else:
                shuffled.apply_change(ts, payload)
        assert shuffled.levels() == ordered.levels() == ([(0.45, 4.0)], [(0.6, 9.0)])


def test_newer_snapshot_overrides_and_older_snapshot_is_ignored():
    book = OrderBook("1")
    book.apply_snapshot(_book(20, {"0.3": "1"}, {}))
    assert not book.apply_change(19, _change("BUY", "0.2", "5"))
    assert not book.apply_snapshot(_book(15, {"0.1": "1"}, {}))
    assert book.apply_snapshot(_book(30, {"0.35": "2"}, {"0.7": "1"}))
    assert book.levels() == ([(0.35, 2.0)], [(0.7, 1.0)])


def test_reconnect_marks_books_unsynced_until_their_snapshot():
    books = BookSet()
    books.apply_snapshot(_book(10, {"0.4": "1"}, {}))
    books.mark_unsynced()
    assert books.unsynced() == ["1"]
    books.apply_snapshot(_book(50, {"0.4": "2"}, {}))
    assert books.unsynced() == []


def test_dropped_asset_stays_dropped_until_watched_again():
    books = BookSet()
    books.apply_snapshot(_book(10, {"0.4": "1"}, {}))
    books.drop(["1"])
    assert not books.apply_snapshot(_book(20, {"0.4": "2"}, {}))  # a frame still in flight
    assert books.apply_changes(21, [_change("BUY", "0.4", "3")]) == 0
    assert "1" not in books.books
    books.watch(["1"])
    assert books.apply_snapshot(_book(30, {"0.4": "4"}, {}))
    assert books.books["1"].levels() == ([(0.4, 4.0)], [])
