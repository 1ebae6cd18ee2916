"""Issue 12, stream and alert path: websocket drops and a silent stall (pm_sim `ws_drop`, `ws_stall`) and the
alert receiver down, with the trade poll, alert delivery and the dead-man's switch ticking in a loop.

Truth for the stream gaps is what arrived on the wire: every frame the consumer received is timestamped by a
tap in front of its handler, and the silence the fault caused is the longest pause after the fault was set.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage.ledger import floor_minute
from pm_assets.coverage.status import StatusThresholds
from pm_sensors.alerts.receiver import running_receiver
from pm_sensors.stream.settings import StreamSettings
from pm_sim.testing import running_sim
from tests.support.pipeline import (
    Pipeline,
    add_rule,
    flag_newest_trade,
    gap_intervals,
    wait_until,
)
from tests.support.stream import ConsumerThread, live_tokens, seed_universe

# Heartbeats get 10 s; webhooks failing for 3 s is the receiver outage (the scaled-down "five minutes").
THRESHOLDS = StatusThresholds(
    parts=("stream_consumer", "trade_poll", "alert_delivery"),
    heartbeat_stale_s={"stream_consumer": 10.0, "trade_poll": 10.0, "alert_delivery": 10.0},
    default_stale_s=3.0,
    feed_silent_s=3600.0,
)


class Tap:
    """Arrival time of every frame the consumer handled."""

    def __init__(self, consumer):
        # Before the consumer starts nothing has arrived: a first connection that gets no data is a silence too.
        self.arrivals: list[float] = [time.time()]
        handle = consumer.handle_frame

        def tapped(raw, received=None):
            self.arrivals.append(time.time())
            handle(raw, received)

        consumer.handle_frame = tapped

    def longest_pause_after(self, t0: float) -> tuple[float, float]:
        times = [t for t in self.arrivals if t >= t0 - 1.0]
        pauses = [(b - a, a, b) for a, b in zip(times, times[1:], strict=False) if b > t0]
        _, start, end = max(pauses)
        return start, end

    def silences(self, at_least_s: float) -> list[tuple[float, float]]:
        """Every pause between two handled frames of at least `at_least_s`, as (last frame, next frame)."""
        return [(a, b) for a, b in zip(self.arrivals, self.arrivals[1:], strict=False) if b - a >= at_least_s]


def _stream_gaps(url: str) -> list[tuple[datetime, datetime]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select started_at, ended_at from stream_health where event = 'gap' order by started_at"
        ).fetchall()


def _fault_gap(sim, ct, tap, url, step, **fault) -> tuple[float, float]:
    """Plant one fault, wait for the consumer to come back from it, clear it; returns the true silence."""
    gaps_before = ct.consumer.stats.gaps
    t0 = time.time()
    sim.set_faults(**fault)
    wait_until(lambda: ct.consumer.stats.gaps > gaps_before, f"a gap from {fault}", step=step, pause_s=0.02)
    sim.set_faults()
    wait_until(lambda: len(_stream_gaps(url)) > gaps_before, "the gap stored", step=step)
    return tap.longest_pause_after(t0)


def test_ws_faults_and_receiver_outage_are_true_gaps_and_alert_once(warehouse_url, monkeypatch):
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")
    start = float(int(time.time()))
    with (
        running_sim(
            markets=24, seed=11, speed=1.0, ws_rate=300.0, trades_per_second=2.0, data_v1=False, start=start
        ) as sim,
        running_receiver() as receiver,
        dg.instance_for_test() as instance,
    ):
        seed_universe(warehouse_url, sim)
        add_rule(warehouse_url, "ops", "system", receiver.url("/ops"))
        add_rule(warehouse_url, "desk", "fresh_wallet", receiver.url("/alerts"))
        p = Pipeline(warehouse_url, sim, instance, THRESHOLDS)
        fired: list = []

        def step() -> None:  # one round of what the daemon runs every few seconds
            p.tick_trade_edge()
            p.tick_alerts()
            fired.extend(p.deadman())

        settings = StreamSettings(
            ws_url=sim.ws_url,
            selection="list",
            tokens=tuple(live_tokens(sim, 12)),
            flush_interval_s=0.1,
            stall_timeout_s=3.0,
            ping_interval_s=0.5,
            backoff_initial_s=0.2,
            heartbeat_interval_s=1.0,
        )
        ct = ConsumerThread(settings, warehouse_url)
        tap = Tap(ct.consumer)
        with ct:
            ct.wait_for(lambda: ct.consumer.stats.messages > 100, "100 messages")
            p.tick_trade_edge()
            p.tick_alerts()
            wait_until(lambda: _beating(warehouse_url), "every part beating")
            step()
            assert fired == []

            # The receiver goes down while an alert is due: deliveries fail, the switch fires once.
            receiver.set_down(True)
            flag_newest_trade(warehouse_url, 1)
            wait_until(
                lambda: [e for e in fired if e.part == "alert_webhooks"],
                "webhooks silent",
                step=step,
                pause_s=0.2,
            )
            for _ in range(5):
                step()
            receiver.set_down(False)
            wait_until(
                lambda: len(receiver.delivered("/ops")) >= 2 and receiver.delivered("/alerts"),
                "alert and both system messages delivered",
                step=step,
                pause_s=0.2,
            )

            # The ledger judges whole minutes after the stream's first evidence (its first connect, which a busy
            # machine may push into the next minute after `start`): plant the ws faults inside one.
            first = wait_until(lambda: _first_evidence(warehouse_url), "the stream's first health row")
            first_whole = floor_minute(first) + (
                timedelta(minutes=1) if first != floor_minute(first) else timedelta()
            )
            wait_until(
                lambda: datetime.now(UTC) >= first_whole + timedelta(seconds=1),
                "a whole stream minute",
                step=step,
                pause_s=0.3,
            )
            truths = [
                _fault_gap(sim, ct, tap, warehouse_url, step, ws_drop=2.0),
                _fault_gap(sim, ct, tap, warehouse_url, step, ws_stall=2.0),
            ]
            for _ in range(3):
                step()
            ledger = p.ledger("stream", datetime.now(UTC) + timedelta(minutes=1))
        stored = _stream_gaps(warehouse_url)
        with psycopg.connect(warehouse_url) as conn:
            health = conn.execute(
                "select event, started_at::time, ended_at::time, detail from stream_health "
                "where event <> 'stats' order by started_at"
            ).fetchall()

    # Each fault is one recorded, closed gap whose exact interval is within 5 s of the silence on the wire. A
    # busy machine can also starve the socket past the stall timeout on its own: such a gap is true too, and
    # allowed only where the tap saw that silence; every recorded gap is explained by the wire.
    def near(gap: tuple[datetime, datetime], truth: tuple[float, float]) -> bool:
        return abs(gap[0].timestamp() - truth[0]) <= 5 and abs(gap[1].timestamp() - truth[1]) <= 5

    assert all(end is not None for _, end in stored), health
    for truth in truths:
        assert sum(near(gap, truth) for gap in stored) == 1, (health, truths)
    wire = tap.silences(settings.stall_timeout_s - 0.5)
    unplanned = [gap for gap in stored if not any(near(gap, truth) for truth in truths)]
    assert all(any(near(gap, silence) for silence in wire) for gap in unplanned), (health, truths, wire)
    # The ledger judges the whole minutes from the stream's first on: gaps that ended before it are not its.
    judged = {gap for gap in stored if gap[1] > first_whole}
    assert gap_intervals(ledger, "repaired") == judged and gap_intervals(ledger, "gap") == set()
    fault_minutes = {m for m in ledger if any(s < m + timedelta(minutes=1) and m < e for s, e in judged)}
    assert {m for m, (state, _) in ledger.items() if state == "repaired"} == fault_minutes
    assert all(state == "covered" for m, (state, _) in ledger.items() if m not in fault_minutes), ledger

    # The dead-man's switch: the receiver outage fired once and recovered once, both messages arrived in
    # order once the receiver was back; the short stream faults never made a heartbeat stale.
    assert [(e.part, e.kind) for e in fired] == [
        ("alert_webhooks", "silent"),
        ("alert_webhooks", "recovered"),
    ]
    assert p.deadman_events() == [("alert_webhooks", "silent", True), ("alert_webhooks", "recovered", True)]
    ops = [str(r.body) for r in receiver.delivered("/ops")]
    assert len(ops) == 2 and "failing for" in ops[0] and "recovered" in ops[1]
    assert len(receiver.delivered("/alerts")) == 1


def _first_evidence(url: str) -> datetime | None:
    with psycopg.connect(url) as conn:
        return conn.execute("select min(started_at) from stream_health").fetchone()[0]


def _beating(url: str) -> bool:
    with psycopg.connect(url) as conn:
        parts = {r[0] for r in conn.execute("select part from heartbeats").fetchall()}
    return set(THRESHOLDS.parts) <= parts
