"""The consumer against pm_sim: books equal REST /book, each message stored once, faults produce true gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import median

import orjson
import psycopg

from pm_sensors.stream.settings import StreamSettings
from pm_sim.testing import running_sim
from tests import loopback
from tests.support.stream import (
    ConsumerThread,
    compared_books,
    freeze_and_sync,
    live_tokens,
    mismatched_books,
    seed_universe,
)

SIM = {"markets": 24, "speed": 1.0, "ws_rate": 300.0, "trades_per_second": 6.0, "seed": 11}


def distinct_messages(frames: list) -> dict[str, set]:
    """What the tick tables must hold, from the raw frames (duplicates collapse, as the keys say)."""
    out: dict[str, set] = {"ws_price_changes": set(), "ws_book_snapshots": set(), "ws_last_trades": set()}
    for raw in frames:
        doc = orjson.loads(raw)
        for ev in doc if isinstance(doc, list) else [doc]:
            kind, ts = ev.get("event_type"), int(ev["timestamp"])
            if kind == "price_change":
                for c in ev["price_changes"]:
                    out["ws_price_changes"].add((c["asset_id"], ts, c["side"], float(c["price"]), c["hash"]))
            elif kind == "book":
                out["ws_book_snapshots"].add((ev["asset_id"], ts, ev["hash"]))
            elif kind == "last_trade_price":
                out["ws_last_trades"].add(
                    (
                        ev["asset_id"],
                        ts,
                        float(ev["price"]),
                        float(ev["size"]),
                        ev["side"],
                        ev.get("transaction_hash", ""),
                    )
                )
    return out


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("ws_price_changes", "ws_book_snapshots", "ws_last_trades")
        }


def health_rows(url: str, event: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select connection_id, started_at, ended_at, detail from stream_health where event = %s "
            "order by started_at",
            (event,),
        ).fetchall()


def assert_converged_and_stored_once(sim, ct: ConsumerThread, url: str) -> None:
    freeze_and_sync(sim)
    ct.wait_for(lambda: not mismatched_books(sim, ct.consumer), "books equal to REST /book")
    assert compared_books(sim, ct.consumer) >= 10
    ct.stop()
    expected = distinct_messages(ct.frames)
    assert expected["ws_price_changes"], "the sim streamed no price changes"
    assert table_counts(url) == {t: len(keys) for t, keys in expected.items()}


def test_books_match_rest_and_each_message_is_stored_once(warehouse_url):
    with running_sim(**SIM) as sim:
        seed_universe(warehouse_url, sim)
        settings = StreamSettings(
            ws_url=sim.ws_url, selection="top", top_n=10, flush_interval_s=0.1, stall_timeout_s=10
        )
        ct = ConsumerThread(settings, warehouse_url).__enter__()
        ct.wait_for(lambda: ct.consumer.stats.messages > 300, "300 messages")
        assert len(ct.consumer.tokens) == len(set(ct.consumer.tokens)) > 0
        assert_converged_and_stored_once(sim, ct, warehouse_url)
        assert ct.consumer.stats.bad_frames == 0
        assert [r[0] for r in health_rows(warehouse_url, "connect")] and not health_rows(warehouse_url, "gap")
        stats = health_rows(warehouse_url, "stats")
        assert stats and stats[-1][3]["messages_per_minute"] > 0


def fault_gaps(url: str, faults_on: datetime) -> list[tuple]:
    """Gap rows that follow a connection opened while the faults were on (their timing is the fault's)."""
    connects = {r[0]: r[1] for r in health_rows(url, "connect")}
    out = []
    for _conn, start, end, detail in health_rows(url, "gap"):
        opened = connects.get(detail.get("previous_connection"))
        if opened is not None and opened > faults_on:
            out.append((opened, start, end, detail))
    return out


def warmed_up(sim, tokens: list[str], url: str, **settings) -> ConsumerThread:
    """A consumer streaming from a sim past its first (slow, lazily generated) steps."""
    ct = ConsumerThread(
        StreamSettings(
            ws_url=sim.ws_url, selection="list", tokens=tuple(tokens), flush_interval_s=0.1, **settings
        ),
        url,
    ).__enter__()
    ct.wait_for(lambda: ct.consumer.stats.messages > 100, "100 messages")
    return ct


def test_dropped_duplicated_and_reordered_frames_converge(warehouse_url):
    drop_after = 1.5
    with running_sim(**SIM) as sim:
        ct = warmed_up(sim, live_tokens(sim, 10), warehouse_url, stall_timeout_s=10, backoff_initial_s=0.2)
        faults_on = datetime.now(UTC)
        sim.set_faults(ws_drop=drop_after, ws_dup=0.2, ws_reorder=0.2)
        ct.wait_for(lambda: len(fault_gaps(warehouse_url, faults_on)) >= 2, "two reconnects after the faults")
        sim.set_faults()  # clear; the next frames also release a frame the sim still holds back
        loopback.post(sim.admin_url + "/clock", json={"advance": 2})
        assert_converged_and_stored_once(sim, ct, warehouse_url)
    assert len(ct.frames) > len(set(ct.frames)), "the sim duplicated no frame"
    assert ct.consumer.stats.duplicates > 0
    gaps = fault_gaps(warehouse_url, faults_on)
    assert len(gaps) >= 2
    # The gap opens when the sim dropped the socket, drop_after seconds into the previous connection (a loaded
    # machine can make the sim fall silent earlier, never later)...
    assert drop_after - 1.0 < median((g[1] - g[0]).total_seconds() for g in gaps) < drop_after + 0.5, gaps
    for opened, start, end, detail in gaps:
        assert (start - opened).total_seconds() < drop_after + 1.0, detail  # a sim step may still be sending
        # ...and is exactly the silence the consumer saw, however long the reconnect took.
        ct.assert_gap_is_the_silence(start, end)
        assert "dropped" in detail["reason"]


def test_silent_stall_is_detected_and_recorded_with_its_length(warehouse_url):
    stall_after, stall_timeout = 1.2, 1.0
    with running_sim(**SIM) as sim:
        ct = warmed_up(
            sim,
            live_tokens(sim, 8),
            warehouse_url,
            stall_timeout_s=stall_timeout,
            ping_interval_s=0.5,
            backoff_initial_s=0.1,
        )
        faults_on = datetime.now(UTC)
        sim.set_faults(ws_stall=stall_after)
        ct.wait_for(lambda: len(fault_gaps(warehouse_url, faults_on)) >= 2, "two stalls after the fault")
        sim.set_faults()
        assert_converged_and_stored_once(sim, ct, warehouse_url)
    assert ct.consumer.stats.stalls >= 2
    gaps = fault_gaps(warehouse_url, faults_on)
    assert len(gaps) >= 2
    assert stall_after - 1.0 < median((g[1] - g[0]).total_seconds() for g in gaps) < stall_after + 0.5, gaps
    for opened, start, end, detail in gaps:
        assert (start - opened).total_seconds() < stall_after + 1.0, detail  # a sim step may still be sending
        # Silence is noticed no sooner than stall_timeout, and the gap is exactly the silence the consumer saw.
        assert stall_timeout - 0.1 <= (end - start).total_seconds(), detail
        ct.assert_gap_is_the_silence(start, end)
        assert "stall" in detail["reason"]


def test_markets_opening_and_closing_change_the_subscription_without_reconnecting(warehouse_url):
    with running_sim(**SIM) as sim:
        markets = seed_universe(warehouse_url, sim)
        live = [m for m in markets if m["open"] and m["has_book"]]
        first, later = live[:3], live[3]
        with psycopg.connect(warehouse_url) as conn:
            conn.execute("update markets set closed = true")
            conn.execute(
                "update markets set closed = false where condition_id = any(%s)",
                ([m["condition_id"] for m in first],),
            )
        settings = StreamSettings(
            ws_url=sim.ws_url,
            selection="active",
            selection_refresh_s=0.2,
            flush_interval_s=0.1,
            stall_timeout_s=10,
        )
        with ConsumerThread(settings, warehouse_url) as ct:
            ct.wait_for(lambda: ct.consumer.stats.messages > 50, "50 messages")
            assert sorted(ct.consumer.tokens) == sorted(t for m in first for t in m["token_ids"])
            with psycopg.connect(warehouse_url) as conn:  # one market closes, another opens
                conn.execute(
                    "update markets set closed = true where condition_id = %s", (first[0]["condition_id"],)
                )
                conn.execute(
                    "update markets set closed = false where condition_id = %s", (later["condition_id"],)
                )
            want = sorted(t for m in [*first[1:], later] for t in m["token_ids"])
            ct.wait_for(lambda: sorted(ct.consumer.tokens) == want, "the new selection")
            ct.wait_for(lambda: set(want) <= set(ct.consumer.books.books), "books of the new market")

            def server_assets() -> int:
                return sum(
                    c["assets"] for c in loopback.get(sim.admin_url + "/state").json()["ws_connections"]
                )

            ct.wait_for(lambda: server_assets() == len(want), "the server-side subscription")
            assert not set(first[0]["token_ids"]) & set(ct.consumer.books.books)
        assert ct.consumer.stats.connects == 1


def test_missing_pong_is_a_stall_too(warehouse_url):
    with running_sim(**SIM) as sim:
        ct = warmed_up(
            sim,
            live_tokens(sim, 4),
            warehouse_url,
            stall_timeout_s=30,
            ping_interval_s=0.2,
            pong_timeout_s=0.6,
            backoff_initial_s=0.1,
        )
        faults_on = datetime.now(UTC)
        sim.set_faults(ws_stall=0.5, ws_stall_pong=True)
        ct.wait_for(lambda: len(fault_gaps(warehouse_url, faults_on)) >= 1, "a PONG timeout")
        ct.stop()
    [_opened, _start, _end, detail] = fault_gaps(warehouse_url, faults_on)[0]
    assert "no PONG" in detail["reason"]
