"""Issue 17: a healthy start reads green. The trade feed's first lookback brings ten minutes of fills from before
the stream connected; reconciliation (the function `trade_reconciliation` runs) must not call those minutes
stream gaps, and `pm-intel status` (the real CLI) must say green once the parts beat and the ledger has its
first whole minutes.

pm_sim runs in real time (speed 1): stream_health is stamped with the wall clock, ticks with the sim clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage.assets import coverage_daily, coverage_ledger
from pm_assets.coverage.ledger import floor_minute
from pm_assets.coverage.reconciliation import record_mismatches
from pm_sensors.stream.settings import StreamSettings
from pm_sim.testing import running_sim
from tests.support.pipeline import HANG_S, Pipeline, cli_status, wait_until
from tests.support.stream import ConsumerThread, live_tokens, seed_universe


def _first_connect(url: str) -> datetime | None:
    with psycopg.connect(url) as conn:
        return conn.execute("select min(started_at) from stream_health where event = 'connect'").fetchone()[0]


def _stream_stored_through(url: str) -> datetime | None:
    """The newest tick stored: the consumer writes in arrival order, so everything before it is stored too."""
    with psycopg.connect(url) as conn:
        return conn.execute("select max(server_ts) from ws_price_changes").fetchone()[0]


def _both_sides(url: str) -> dict:
    """What each side holds around every open mismatch (the diagnosis a failure needs)."""
    with psycopg.connect(url) as conn:
        out = {}
        for cid, minute in conn.execute(
            "select condition_id, minute from reconciliation_mismatches where state = 'open'"
        ).fetchall():
            window = (cid, minute - timedelta(seconds=5), minute + timedelta(seconds=65))
            out[f"{cid[:10]} {minute:%H:%M}"] = {
                "stream": conn.execute(
                    "select server_ts, token_id, price, size, side, transaction_hash, received_at from ws_last_trades "
                    "where condition_id = %s and server_ts >= %s and server_ts < %s order by 1",
                    window,
                ).fetchall(),
                "feed": conn.execute(
                    "select traded_at, token_id, price, size, side, transaction_hash, is_taker, ingested_at from trades "
                    "where condition_id = %s and traded_at >= %s and traded_at < %s order by 1",
                    window,
                ).fetchall(),
            }
    return out


def _materialize(pipeline: Pipeline, assets, config: dict) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        assets,
        resources={k: pipeline.resources[k] for k in ("warehouse", "data_api")},
        instance=pipeline.instance,
        run_config={"ops": config},
        selection=assets,
    )
    assert result.success
    return result


def test_a_healthy_start_reads_green_and_opens_no_gap(warehouse_url):
    start = float(int(time.time()))
    with (
        running_sim(
            markets=16, seed=11, speed=1.0, ws_rate=200.0, trades_per_second=2.0, data_v1=False, start=start
        ) as sim,
        dg.instance_for_test() as instance,
    ):
        seed_universe(warehouse_url, sim)
        p = Pipeline(warehouse_url, sim, instance, None)
        if isinstance(p.tick_trade_edge(), dg.RunRequest):  # the first lookback: fills from before the stream
            assert p.run_repair().success
        p.tick_alerts()

        def step() -> None:  # what the daemon runs every few seconds
            # Real flow is bursty: a burst deeper than one poll opens a loss event, and the daemon runs the
            # repair the sensor requests (an open gap awaiting repair is amber until it does).
            if isinstance(p.tick_trade_edge(), dg.RunRequest):
                assert p.run_repair().success
            p.tick_alerts()

        settings = StreamSettings(
            ws_url=sim.ws_url, selection="list", tokens=tuple(live_tokens(sim, 16)), heartbeat_interval_s=1.0
        )
        with ConsumerThread(settings, warehouse_url) as ct:
            ct.wait_for(lambda: ct.consumer.stats.messages > 0, "the stream's first data")
            connected = wait_until(lambda: _first_connect(warehouse_url), "the connect row stored")
            # A whole minute watched by the stream; judged once the stream has stored past it (a busy machine
            # delays the consumer, never a tick) and the feed was polled after that.
            judged_until = floor_minute(connected) + timedelta(minutes=2)
            wait_until(
                lambda: (_stream_stored_through(warehouse_url) or connected) >= judged_until,
                "the stream stored past the judged minute",
                step=step,
                pause_s=0.5,
                hang_s=(judged_until - datetime.now(UTC)).total_seconds()
                + HANG_S,  # a clock wait + a hang bound
            )
            step()
            with psycopg.connect(warehouse_url) as conn:
                found = record_mismatches(conn, judged_until - timedelta(hours=3), judged_until)

            def green() -> (
                dict | None
            ):  # the daemon's rounds: polls, deliveries, the ledger every few minutes
                step()
                _materialize(
                    p,
                    [coverage_ledger, coverage_daily],
                    {"coverage_ledger": {"config": {"settle_seconds": 5}}},
                )
                reports.append(cli_status(warehouse_url))
                judged = {"stream", "trade_feed"} <= set(
                    reports[-1]["coverage"]
                )  # the stream's minute judged too
                return reports[-1] if reports[-1]["overall"] == "green" and judged else None

            reports: list[dict] = []
            report = wait_until(
                green,
                "status green, the stream's minute in the ledger",
                context=lambda: (reports[-1:], _both_sides(warehouse_url)),
            )
        with psycopg.connect(warehouse_url) as conn:
            compared = conn.execute(
                "select count(*) from ws_last_trades where server_ts >= %s and server_ts < %s",
                (floor_minute(connected) + timedelta(minutes=1), judged_until),
            ).fetchone()[0]
            mismatches = conn.execute(
                "select condition_id, minute, stream_trades, feed_trades, state from reconciliation_mismatches"
            ).fetchall()

    # The situation of the false alarm is there: the feed has fills the stream could not have seen ...
    assert found["stream_not_watching"] > 0, found
    # ... and the watched minutes were really compared (the stream saw trades in them), with nothing missing.
    assert compared > 0
    assert mismatches == [], mismatches
    assert report["open_gaps"] == 0 and set(report["coverage"]) == {"stream", "trade_feed"}, report
