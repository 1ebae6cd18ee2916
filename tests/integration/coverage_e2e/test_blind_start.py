"""Issue 17: a system that cannot reach Polymarket at all reads red, naming what it cannot reach.

Both upstreams point at a closed loopback port (bound, never listening: every connect is refused). The trade
poll and the stream consumer run for real and keep beating; the warehouse has no market (nothing crawled).
"Within five minutes" is judged with the status clock set five minutes after the start, not by waiting.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage import deadman
from pm_assets.coverage.status import StatusThresholds, system_status
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.alerts.delivery import DeliverySettings
from pm_sensors.live.driver import LiveDriver
from pm_sensors.stream.settings import StreamSettings
from tests.support.pipeline import cli_status
from tests.support.stream import ConsumerThread
from tests.waiting import wait_for

# Heartbeats are judged as fresh whatever the status clock says: only the failing rule may turn this red.
LIVE_LOOPS = StatusThresholds(
    parts=("stream_consumer", "trade_poll"),
    heartbeat_stale_s={"stream_consumer": 3600.0, "trade_poll": 3600.0},
)


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port held bound and never listening, so nothing else can take it and every connect is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _detail(url: str, part: str) -> dict:
    with psycopg.connect(url) as conn:
        row = conn.execute("select detail from heartbeats where part = %s", (part,)).fetchone()
    return row[0] if row else {}


def test_nothing_reachable_from_the_start_reads_red_within_five_minutes(warehouse_url):
    started = datetime.now(UTC)
    with closed_port() as port, dg.instance_for_test() as instance:
        resources = {
            "data_api": DataApiClient(base_url=f"http://127.0.0.1:{port}", max_attempts=2, max_backoff_s=0.1),
            "warehouse": WarehouseResource(database_url=warehouse_url),
        }
        settings = StreamSettings(
            ws_url=f"ws://127.0.0.1:{port}/ws/market",
            backoff_initial_s=0.05,
            backoff_max_s=0.2,
            heartbeat_interval_s=0.1,
        )
        with ConsumerThread(settings, warehouse_url) as ct:
            ct.wait_for(
                lambda: _detail(warehouse_url, "stream_consumer").get("failing_since"), "a failing beat"
            )
            # The live driver (the one caller of the trade poll) runs its passes against the closed port.
            driver = LiveDriver(
                resources["warehouse"],
                resources["data_api"],
                ClobClient(base_url=f"http://127.0.0.1:{port}", max_attempts=1),
                DeliverySettings(allow_private=True),
                instance=instance,
                run_id="blind-live-run",
                poll_interval_s=0.1,
                tasks=(),
            )
            stop = threading.Event()
            runner = threading.Thread(target=driver.run, args=(stop,), daemon=True)
            runner.start()
            try:
                wait_for(
                    lambda: _detail(warehouse_url, "trade_poll").get("failing_since"),
                    "a failing trade poll beat",
                )
            finally:
                stop.set()
                runner.join(timeout=120)
            assert driver.passes == 0 and driver.failures >= 1
        stream, poll = _detail(warehouse_url, "stream_consumer"), _detail(warehouse_url, "trade_poll")
        assert stream["connected"] is False and stream["last_ok_at"] is None and stream["unreachable"] is True
        assert poll["ok"] is False and poll["last_ok_at"] is None and poll["unreachable"] is True
        first_failure = min(datetime.fromisoformat(d["failing_since"]) for d in (stream, poll))
        assert started <= first_failure

        with psycopg.connect(warehouse_url) as conn:
            a_minute_in = system_status(conn, now=first_failure + timedelta(minutes=1), thresholds=LIVE_LOOPS)
            five_minutes_on = started + timedelta(minutes=5)
            later = system_status(conn, now=five_minutes_on, thresholds=LIVE_LOOPS)
            fired = deadman.evaluate(conn, five_minutes_on, LIVE_LOOPS, lambda edge, conn: None)
        # The CLI reads the same facts; with no grace at all it says so at once, with its exit code 2.
        cli = cli_status(
            warehouse_url, PM_INTEL_STATUS_PARTS="stream_consumer,trade_poll", PM_INTEL_FAILING_S="0"
        )

    # A minute in, the parts are still retrying (PM_INTEL_FAILING_S is 120 s): no "cannot reach" yet.
    assert not any("cannot reach" in r for r in a_minute_in["reasons"]), a_minute_in["reasons"]
    assert cli["overall"] == "red" and any(
        "cannot reach the Data API / CLOB websocket" in r for r in cli["reasons"]
    )
    # Five minutes on, with every loop still counted as beating, the verdict is red and says why.
    assert later["overall"] == "red", later["reasons"]
    [blind] = [r for r in later["reasons"] if "cannot reach" in r]
    assert blind.startswith(
        f"red: cannot reach the Data API / CLOB websocket since {first_failure:%Y-%m-%d %H:%M:%S} UTC"
    ), blind
    assert not any("silent for" in r or "never written" in r for r in later["reasons"]), later["reasons"]
    # The dead-man's switch sees the same: both parts silent in effect.
    assert {e.part for e in fired if e.kind == "silent"} >= {"stream_consumer", "trade_poll"}
