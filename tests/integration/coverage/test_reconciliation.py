"""Stream versus feed: what one side saw and the other lacks becomes a mismatch, and a loss event to repair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from pm_assets.coverage.reconciliation import record_mismatches

A, B = "0x" + "a1" * 32, "0x" + "b2" * 32
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _ws_trade(conn, cond, ts, tx):
    conn.execute(
        "insert into ws_last_trades (server_ts, token_id, price, size, side, transaction_hash, condition_id, received_at)"
        " values (%s, '1', 0.5, 10, 'BUY', %s, %s, %s)",
        (ts, tx, cond, ts),
    )


def _feed_trade(conn, cond, ts, key):
    conn.execute(
        "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price, size, source)"
        " values (%s, %s, '0x1', '1', %s, %s, 'BUY', 0.5, 10, 'test')",
        (ts, key, cond, "0x" + "d" * 40),
    )


def _connected(conn, since, until=None, connection="c"):
    """A stream connection as the consumer records it: a connect row, and a disconnect row once it ends."""
    conn.execute(
        "insert into stream_health (connection_id, event, started_at) values (%s, 'connect', %s)",
        (connection, since),
    )
    if until is not None:
        conn.execute(
            "insert into stream_health (connection_id, event, started_at, ended_at) values (%s, 'disconnect', %s, %s)",
            (connection, since, until),
        )


def test_feed_missing_trades_open_a_targeted_loss_event_and_close_once_repaired(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        _connected(conn, T0 - timedelta(minutes=1))
        _ws_trade(conn, A, T0 + timedelta(seconds=5), "0xa")
        _ws_trade(conn, A, T0 + timedelta(seconds=50), "0xb")
        _feed_trade(conn, A, T0 + timedelta(seconds=5), "k1")
        _ws_trade(conn, B, T0 + timedelta(minutes=1, seconds=3), "0xc")
        _feed_trade(conn, B, T0 + timedelta(minutes=1, seconds=3), "k2")
        _feed_trade(conn, B, T0 + timedelta(minutes=2, seconds=3), "k3")  # the stream missed this one
        counts = record_mismatches(conn, T0, T0 + timedelta(minutes=5))
        assert counts == {
            "feed_missing": 1,
            "stream_missing_explained": 0,
            "stream_missing_open": 1,
            "stream_not_watching": 0,
            "resolved": 0,
        }
        loss = conn.execute(
            "select interval_start, interval_end, reason, evidence from trade_loss_events"
        ).fetchall()
        assert loss == [
            (
                T0,
                T0 + timedelta(minutes=1),
                "reconciliation",
                {"condition_ids": [A], "detected_by": "reconciliation"},
            )
        ]

        _feed_trade(conn, A, T0 + timedelta(seconds=50), "k4")  # what the repair backfill brings
        counts = record_mismatches(conn, T0, T0 + timedelta(minutes=5))
        assert counts["resolved"] == 1 and counts["feed_missing"] == 0
        states = dict(conn.execute("select condition_id, state from reconciliation_mismatches").fetchall())
        assert states == {A: "repaired", B: "open"}


def test_stream_gaps_explain_what_the_stream_missed(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        _connected(conn, T0 - timedelta(minutes=1))
        _ws_trade(conn, B, T0, "0xc")
        _feed_trade(conn, B, T0, "k1")
        _feed_trade(conn, B, T0 + timedelta(minutes=2, seconds=10), "k2")
        conn.execute(
            "insert into stream_health (connection_id, event, started_at, ended_at) values ('c', 'gap', %s, %s)",
            (T0 + timedelta(minutes=2), T0 + timedelta(minutes=2, seconds=20)),
        )
        counts = record_mismatches(conn, T0, T0 + timedelta(minutes=5))
    assert counts["stream_missing_explained"] == 1 and counts["stream_missing_open"] == 0


def test_minutes_the_stream_was_not_watching_are_no_finding(warehouse_url):
    """A fresh start: the trade feed's first lookback brings fills from before the stream ever connected, a
    market enters the selection mid-connection, the consumer stops with nothing recorded after. None of those
    minutes is a stream gap; a fill the connected stream really missed still is."""
    connect, stop = T0 + timedelta(minutes=3, seconds=20), T0 + timedelta(minutes=8)
    with psycopg.connect(warehouse_url) as conn:
        _connected(conn, connect, stop)
        for minute in range(3):  # the first lookback, before the stream connected
            _feed_trade(conn, A, T0 + timedelta(minutes=minute, seconds=10), f"early{minute}")
        _feed_trade(conn, A, T0 + timedelta(minutes=3, seconds=5), "early3")  # the connect's own minute
        conn.execute(
            "insert into ws_book_snapshots (server_ts, token_id, book_hash, condition_id, bids, asks, received_at) "
            "values (%s, '1', 'h', %s, '[]', '[]', %s)",
            (connect + timedelta(seconds=1), A, connect + timedelta(seconds=1)),
        )
        _ws_trade(conn, A, T0 + timedelta(minutes=4, seconds=2), "0xa")
        _feed_trade(conn, A, T0 + timedelta(minutes=4, seconds=2), "k1")
        _feed_trade(conn, A, T0 + timedelta(minutes=5, seconds=2), "k2")  # connected, watched: really missed
        # B enters the selection mid-connection: its fills before its first stream evidence are not missed.
        _feed_trade(conn, B, T0 + timedelta(minutes=4, seconds=30), "b1")
        _ws_trade(conn, B, T0 + timedelta(minutes=5, seconds=40), "0xb")
        _feed_trade(conn, B, T0 + timedelta(minutes=5, seconds=40), "b2")
        _feed_trade(conn, A, T0 + timedelta(minutes=9, seconds=1), "late")  # after the consumer stopped
        counts = record_mismatches(conn, T0, T0 + timedelta(minutes=10))
        rows = conn.execute("select condition_id, minute, state from reconciliation_mismatches").fetchall()
    assert counts["stream_missing_open"] == 1 and counts["feed_missing"] == 0
    assert counts["stream_not_watching"] == 6
    assert rows == [(A, T0 + timedelta(minutes=5), "open")]


def test_a_mismatch_opened_for_an_unwatched_minute_is_withdrawn_as_explained(warehouse_url):
    """Rows the earlier reconciliation opened for minutes before the stream connected stop counting as gaps."""
    with psycopg.connect(warehouse_url) as conn:
        _connected(conn, T0 + timedelta(minutes=2))
        _ws_trade(conn, A, T0 + timedelta(minutes=2, seconds=30), "0xa")
        _feed_trade(conn, A, T0 + timedelta(minutes=2, seconds=30), "k1")
        _feed_trade(conn, A, T0 + timedelta(seconds=30), "k0")
        conn.execute(
            "insert into reconciliation_mismatches (condition_id, minute, stream_trades, feed_trades, state, detail) "
            "values (%s, %s, 0, 1, 'open', '{\"side_missing\": \"stream\"}')",
            (A, T0),
        )
        counts = record_mismatches(conn, T0, T0 + timedelta(minutes=5))
        state = conn.execute("select state, detail from reconciliation_mismatches").fetchall()
    assert counts["stream_not_watching"] == 1 and counts["resolved"] == 0
    assert state == [
        ("explained", {"side_missing": "stream", "explained_by": "the stream was not watching this minute"})
    ]


def test_two_identical_fills_of_one_transaction_are_no_mismatch(warehouse_url):
    """A taker matched twice at one price and size in one transaction: two fills in the feed, one row on the
    stream (its frame has nothing to tell them apart). Counted alike, they agree; a third fill still differs."""
    with psycopg.connect(warehouse_url) as conn:
        _connected(conn, T0 - timedelta(minutes=1))
        _ws_trade(conn, A, T0 + timedelta(seconds=5), "0xfirst")  # A watched from here on
        _feed_trade(conn, A, T0 + timedelta(seconds=5), "k0")
        _ws_trade(conn, A, T0 + timedelta(minutes=1, seconds=9, milliseconds=250), "0xtx")
        _feed_trade(conn, A, T0 + timedelta(minutes=1, seconds=9), "k1")
        _feed_trade(conn, A, T0 + timedelta(minutes=1, seconds=9), "k2")
        counts = record_mismatches(conn, T0, T0 + timedelta(minutes=2))
        assert counts["stream_missing_open"] == 0 and counts["feed_missing"] == 0, counts
        _feed_trade(conn, A, T0 + timedelta(minutes=1, seconds=30), "k3")
        assert record_mismatches(conn, T0, T0 + timedelta(minutes=2))["stream_missing_open"] == 1
