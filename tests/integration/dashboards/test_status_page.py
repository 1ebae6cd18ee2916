"""The status page says what `pm-intel status` says: red with the reason while a part is down, green when
every fact is healthy."""

from __future__ import annotations

import psycopg
import streamlit as st

from tests.support.apptest import open_page, texts


def _all_healthy(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("delete from heartbeats")
        for part in ("stream_consumer", "trade_poll", "alert_delivery"):
            conn.execute("insert into heartbeats (part, last_beat_at) values (%s, now())", (part,))
        conn.execute(
            "update trades set ingested_at = now() where traded_at = (select max(traded_at) from trades)"
        )
        conn.execute("delete from trade_loss_events")
        conn.execute("delete from coverage_ledger")
        conn.execute(
            "insert into coverage_ledger (source, minute, state) select 'trade_feed', m, 'covered' from "
            "generate_series(date_trunc('day', now()), date_trunc('minute', now()) - interval '1 minute', "
            "interval '1 minute') m"
        )
        conn.execute("delete from alert_deliveries")


def test_status_page_is_red_with_the_reason_while_the_stream_is_down(world, monkeypatch):
    monkeypatch.setenv("PM_INTEL_STATUS_PARTS", "stream_consumer,trade_poll,alert_delivery")
    _all_healthy(world.url)
    with psycopg.connect(world.url) as conn:
        conn.execute(
            "update heartbeats set last_beat_at = now() - interval '10 minutes' where part = 'stream_consumer'"
        )
    at = open_page("status")
    page_text = texts(at)
    assert "RED" in page_text
    assert "stream_consumer silent for" in page_text and "(threshold 30 s)" in page_text

    with psycopg.connect(world.url) as conn:
        conn.execute("update heartbeats set last_beat_at = now() where part = 'stream_consumer'")
    st.cache_data.clear()
    at = open_page("status")
    assert "GREEN" in texts(at), texts(at)
