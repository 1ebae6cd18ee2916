"""`pm-intel status` and the status facts: green only when every part is seen healthy, red with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from pm_assets.coverage.status import StatusThresholds, system_status

PM_INTEL = str(Path(sys.executable).parent / "pm-intel")
COND = "0x" + "ab" * 32


def _healthy_world(conn, now):
    conn.execute("insert into events (event_id) values ('1')")
    conn.execute(
        "insert into markets (condition_id, event_id, closed, end_date) values (%s, '1', false, %s)",
        (COND, now + timedelta(days=3)),
    )
    for part in ("stream_consumer", "trade_poll", "alert_delivery"):
        conn.execute(
            "insert into heartbeats (part, last_beat_at) values (%s, %s)", (part, now - timedelta(seconds=2))
        )
    conn.execute(
        "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price, size,"
        " source, ingested_at) values (%s, 'k1', '0x1', '1', %s, %s, 'BUY', 0.4, 100, 'test', %s)",
        (now - timedelta(seconds=30), COND, "0x" + "c" * 40, now - timedelta(seconds=20)),
    )
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    conn.execute(
        "insert into coverage_ledger (source, minute, state) select 'trade_feed', m, 'covered' "
        "from generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute', interval '1 minute') m",
        (day_start, now.replace(second=0, microsecond=0)),
    )


def test_green_only_when_every_fact_is_healthy_then_red_with_the_reason(warehouse_url):
    now = datetime.now(UTC).replace(hour=12)
    with psycopg.connect(warehouse_url) as conn:
        _healthy_world(conn, now)
        report = system_status(conn, now=now, thresholds=StatusThresholds())
        assert report["overall"] == "green", report["reasons"]
        assert report["coverage"] == {"trade_feed": 100.0}
        assert report["open_gaps"] == 0

        conn.execute(
            "update heartbeats set last_beat_at = %s where part = 'stream_consumer'",
            (now - timedelta(seconds=95),),
        )
        report = system_status(conn, now=now, thresholds=StatusThresholds())
        assert report["overall"] == "red"
        assert any("stream_consumer silent for 95 s (threshold 30 s)" in r for r in report["reasons"])
        assert report["heartbeats"]["stream_consumer"]["age_s"] == 95.0


def test_amber_for_open_gaps_and_missing_coverage(warehouse_url):
    now = datetime.now(UTC).replace(hour=12)
    with psycopg.connect(warehouse_url) as conn:
        _healthy_world(conn, now)
        conn.execute(
            "insert into trade_loss_events (interval_start, interval_end, reason) values (%s, %s, 'burst')",
            (now - timedelta(minutes=10), now - timedelta(minutes=8)),
        )
        conn.execute("delete from coverage_ledger")
        report = system_status(conn, now=now, thresholds=StatusThresholds())
    assert report["overall"] == "amber"
    assert report["open_gaps"] == 1
    assert any("coverage is unproven" in r for r in report["reasons"])


def test_silent_trade_feed_while_markets_are_open_is_red(warehouse_url):
    now = datetime.now(UTC).replace(hour=12)
    with psycopg.connect(warehouse_url) as conn:
        _healthy_world(conn, now)
        conn.execute("update trades set ingested_at = %s", (now - timedelta(hours=1),))
        report = system_status(conn, now=now, thresholds=StatusThresholds(feed_silent_s=600))
    assert report["overall"] == "red"
    assert any("trade feed silent for 3600 s" in r for r in report["reasons"])


def test_cli_json_has_the_contract_keys_and_exit_code(warehouse_url, tmp_path):
    env = dict(os.environ, DATABASE_URL=warehouse_url, PM_INTEL_HOME=str(tmp_path))
    with psycopg.connect(warehouse_url) as conn:
        _healthy_world(conn, datetime.now(UTC))
    result = subprocess.run(
        [PM_INTEL, "status", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    report = json.loads(result.stdout)
    assert {"overall", "coverage", "latency_s", "heartbeats", "open_gaps"} <= report.keys()
    assert set(report["latency_s"]) >= {"p50", "p95", "p99"}
    assert set(report["heartbeats"]["trade_poll"]) == {"last_beat", "age_s"}
    assert result.returncode == {"green": 0, "amber": 1, "red": 2}[report["overall"]]

    env["DATABASE_URL"] = "postgresql://watcher:hunter2@127.0.0.1:9/nowhere"
    result = subprocess.run(
        [PM_INTEL, "status", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    report = json.loads(result.stdout)
    assert result.returncode == 2 and report["overall"] == "red"
    assert "hunter2" not in result.stdout and "cannot reach the database" in report["reasons"][0]


def _failing(conn, part: str, since: datetime, error: str, unreachable: bool = True) -> None:
    conn.execute(
        "update heartbeats set detail = %s where part = %s",
        (
            json.dumps(
                {"ok": False, "failing_since": since.isoformat(), "error": error, "unreachable": unreachable}
            ),
            part,
        ),
    )


def test_fresh_beats_that_never_get_through_read_red_with_since_when(warehouse_url):
    """A loop that turns is not a part that works: every heartbeat is 2 s old, yet nothing got through."""
    now = datetime.now(UTC).replace(hour=12, microsecond=0)
    with psycopg.connect(warehouse_url) as conn:
        _healthy_world(conn, now)
        _failing(conn, "trade_poll", now - timedelta(seconds=100), "GET /v2/trades: connection failed")
        _failing(conn, "stream_consumer", now - timedelta(seconds=90), "ConnectionRefusedError")
        report = system_status(conn, now=now, thresholds=StatusThresholds())
        assert report["overall"] == "green", (
            "under PM_INTEL_FAILING_S (120 s) a failing part is only retrying"
        )

        report = system_status(conn, now=now + timedelta(seconds=40), thresholds=StatusThresholds())
        assert report["overall"] == "red"
        since = now - timedelta(seconds=100)
        [reason] = [r for r in report["reasons"] if "cannot reach" in r]
        assert reason.startswith(
            f"red: cannot reach the Data API / CLOB websocket since {since:%Y-%m-%d %H:%M:%S} UTC"
        )

        # An upstream that answers, but with errors, is named as failing, not unreachable.
        _failing(conn, "trade_poll", now - timedelta(seconds=300), "HTTP 503", unreachable=False)
        conn.execute("update heartbeats set detail = '{\"ok\": true}' where part = 'stream_consumer'")
        report = system_status(conn, now=now, thresholds=StatusThresholds())
    assert report["overall"] == "red"
    assert [r for r in report["reasons"] if "failing since" in r or "cannot reach" in r] == [
        f"red: trade_poll failing since {now - timedelta(seconds=300):%Y-%m-%d %H:%M:%S} UTC (300 s): HTTP 503"
    ]
    assert set(report["heartbeats"]["trade_poll"]) == {"last_beat", "age_s"}  # the contract keys, unchanged


def test_feed_silence_is_red_with_no_market_crawled_once_the_system_has_been_up(warehouse_url):
    now = datetime.now(UTC).replace(hour=12, microsecond=0)
    thresholds = StatusThresholds(feed_silent_s=900)
    with psycopg.connect(warehouse_url) as conn:
        for part in ("stream_consumer", "trade_poll", "alert_delivery"):
            conn.execute(
                "insert into heartbeats (part, last_beat_at, started_at) values (%s, %s, %s)",
                (part, now - timedelta(seconds=2), now - timedelta(minutes=10)),
            )
        young = system_status(conn, now=now, thresholds=thresholds)
        conn.execute("update heartbeats set started_at = %s", (now - timedelta(minutes=20),))
        old = system_status(conn, now=now, thresholds=thresholds)
    assert not any("trade feed silent" in r for r in young["reasons"]), "up 600 s: not yet past 900 s"
    assert old["overall"] == "red" and old["markets_open"] == 0
    assert "red: trade feed silent for 1200 s (threshold 900 s) and no open market is known" in " ".join(
        old["reasons"]
    )
