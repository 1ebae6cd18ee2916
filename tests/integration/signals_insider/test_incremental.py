"""Watermark windows on a real Postgres: only new trades, overlap re-read, never backwards, rescans apart."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from pm_assets.signals import incremental
from tests.support.insider import T0


def test_window_reads_only_trades_after_the_watermark(rows, warehouse_url):
    old = rows.trade(1, 1, T0, 100, ingested_at=T0)
    with psycopg.connect(warehouse_url) as conn:
        first = incremental.incremental_window(conn, "size_anomalies")
        assert first.ingested_after is None and first.ingested_through == T0
        assert incremental.new_trade_span(conn, first)[0] == 1
        assert incremental.advance_watermark(conn, first)
    rows.trade(1, 1, T0, 100, ingested_at=T0 + timedelta(hours=1))
    with psycopg.connect(warehouse_url) as conn:
        second = incremental.incremental_window(conn, "size_anomalies", overlap=timedelta(0))
        where, params = second.trade_filter("t")
        keys = [
            r[0]
            for r in conn.execute(
                psycopg.sql.SQL("select fill_key from trades t where {}").format(where), params
            )
        ]
        assert old not in keys and len(keys) == 1
        assert incremental.read_watermark(conn, "signal:size_anomalies") == T0


def test_overlap_rereads_late_commits_and_watermark_never_moves_back(rows, warehouse_url):
    rows.trade(1, 1, T0, 100, ingested_at=T0)
    with psycopg.connect(warehouse_url) as conn:
        incremental.advance_watermark(conn, incremental.incremental_window(conn, "x"))
    late = rows.trade(1, 1, T0, 100, ingested_at=T0 - timedelta(minutes=2))
    with psycopg.connect(warehouse_url) as conn:
        window = incremental.incremental_window(conn, "x", overlap=timedelta(minutes=5))
        where, params = window.trade_filter("t")
        keys = [
            r[0]
            for r in conn.execute(
                psycopg.sql.SQL("select fill_key from trades t where {}").format(where), params
            )
        ]
        assert late in keys
        incremental.advance_watermark(conn, window)
        assert incremental.read_watermark(conn, "signal:x") == T0


def test_empty_table_gives_empty_window_and_rescan_leaves_watermark(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        window = incremental.incremental_window(conn, "x")
        assert window.is_empty and not incremental.advance_watermark(conn, window)
        rescan = incremental.rescan_window("x", T0, T0 + timedelta(days=1))
        assert rescan.is_rescan and not incremental.advance_watermark(conn, rescan)
        assert incremental.read_watermark(conn, "signal:x") is None
