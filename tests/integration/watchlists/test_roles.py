"""Watchlists are written by the dashboards' editor role only; the signal table stays the pipeline's."""

from __future__ import annotations

import psycopg
import pytest

W = "0x" + "ab" * 20


def test_the_editor_writes_lists_and_the_reader_only_reads(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("set role pm_intel_editor")
        (wid,) = conn.execute("insert into watchlists (name) values ('L') returning watchlist_id").fetchone()
        conn.execute("insert into watchlist_wallets (watchlist_id, wallet) values (%s, %s)", (wid, W))
        conn.execute("update watchlist_wallets set label = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from watched_wallet_trades")
        conn.rollback()
        conn.execute("set role pm_intel_reader")
        assert conn.execute("select count(*) from watched_wallet_trades").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into watchlists (name) values ('M')")


def test_the_table_refuses_what_the_page_would_never_store(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        (wid,) = conn.execute("insert into watchlists (name) values ('L') returning watchlist_id").fetchone()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "insert into watchlist_wallets (watchlist_id, wallet) values (%s, %s)", (wid, W.upper())
            )
        conn.rollback()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("insert into watchlists (name, min_position_usdc) values ('N', -1)")
