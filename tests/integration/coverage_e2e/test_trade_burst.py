"""Issue 12, trade feed: a burst deeper than the feed pages back (pm_sim `feed_cap`) while the poll was away.

The ledger shows the burst as a gap with its true interval, the loss repair job fills it, the ledger then
says repaired, the warehouse holds exactly what pm_sim emitted, and the dead-man's switch saw the silent poll
once and its recovery once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage.ledger import floor_minute
from pm_assets.coverage.status import StatusThresholds
from pm_sim.testing import running_sim
from tests import loopback
from tests.support.pipeline import HANG_S, Pipeline, gap_intervals, sim_now, wait_until
from tests.support.stream import seed_universe
from tests.support.trades import emitted_fills, stored_fills

# The poll's threshold is scaled down so a real outage of a few seconds trips it; everything else stays quiet.
THRESHOLDS = StatusThresholds(
    parts=("trade_poll",), heartbeat_stale_s={"trade_poll": 2.0}, feed_silent_s=3600.0
)
CAP = 300


def newest_emitted(sim) -> list[int]:
    """Timestamps of every fill pm_sim has emitted so far, newest first (the order the feed pages in)."""
    rows = loopback.get(sim.admin_url + "/emitted/trades", params={"rows": 1}, timeout=HANG_S).json()["rows"]
    return [int(line.split("|")[6]) for line in rows]


def test_feed_cap_burst_is_a_true_gap_then_repaired_to_everything_emitted(warehouse_url):
    start = float(int(time.time()))  # sim time starts at wall time: heartbeats (wall) and trades line up
    with (
        running_sim(markets=20, trades_per_second=2.0, data_v1=False, start=start) as sim,
        dg.instance_for_test() as instance,
    ):
        seed_universe(warehouse_url, sim)
        p = Pipeline(warehouse_url, sim, instance, THRESHOLDS)
        assert isinstance(p.tick_trade_edge(), dg.SkipReason)
        assert p.deadman() == []
        emitted_before = newest_emitted(sim)
        seen_before = emitted_before[0]  # the newest fill when the poll went away
        with psycopg.connect(warehouse_url) as conn:
            first_proof = conn.execute(
                "select min(interval_start) from coverage_proofs where source = 'trade_feed'"
            ).fetchone()[0]

        # The poll is away (no ticks) while 15 sim minutes of trades pile up, deeper than the feed pages.
        sim.advance(900)
        sim.set_faults(feed_cap=CAP)
        silent = wait_until(p.deadman, "the dead-man's switch firing for the trade poll", pause_s=0.1)
        assert [(t.part, t.kind) for t in silent] == [("trade_poll", "silent")]
        assert p.deadman() == []  # still silent: no second alert

        burst = newest_emitted(sim)
        reached = burst[CAP - 1]  # the oldest fill the capped feed lets a client page back to
        before_repair = stored_fills(warehouse_url)
        assert isinstance(p.tick_trade_edge(), dg.RunRequest)
        assert [(t.part, t.kind) for t in p.deadman()] == [("trade_poll", "recovered")]
        missing = emitted_fills(sim, start=first_proof.timestamp()) - stored_fills(warehouse_url)
        assert missing and not (before_repair - emitted_fills(sim, start=first_proof.timestamp()))
        # The true blind interval: from the last fill seen before the burst to the oldest the feed still served.
        true_start, true_end = seen_before, reached
        assert all(true_start <= int(f[6]) <= true_end for f in missing)

        now = sim_now(sim) + timedelta(minutes=2)
        ledger = p.ledger("trade_feed", now)
        gaps = gap_intervals(ledger, "gap")
        assert len(gaps) == 1, gaps
        ((gap_start, gap_end),) = gaps
        assert abs(gap_start.timestamp() - true_start) <= 5 and abs(gap_end.timestamp() - true_end) <= 5
        gap_minutes = {m for m, (s, d) in ledger.items() if s == "gap" and d.obj.get("gaps")}
        assert gap_minutes == {m for m in ledger if m < gap_end and gap_start < m + timedelta(minutes=1)}

        sim.set_faults()
        assert p.run_repair().success
        assert isinstance(p.tick_trade_edge(), dg.SkipReason)
        assert p.deadman() == []

        now = sim_now(sim) + timedelta(minutes=2)
        ledger = p.ledger("trade_feed", now)
        assert gap_intervals(ledger, "repaired") == gaps
        proven_through = floor_minute(sim_now(sim))
        judged = {m: s for m, (s, _) in ledger.items() if m < proven_through}
        assert judged and all(s in ("covered", "repaired") for s in judged.values()), judged
        assert {m for m, s in judged.items() if s == "repaired"} == gap_minutes
        assert stored_fills(warehouse_url) == emitted_fills(sim, start=first_proof.timestamp())
    assert p.deadman_events() == [("trade_poll", "silent", False), ("trade_poll", "recovered", False)]
    with psycopg.connect(warehouse_url) as conn:
        assert (
            conn.execute("select count(*) from trade_loss_events where repaired_at is null").fetchone()[0]
            == 0
        )
    assert first_proof <= datetime.fromtimestamp(true_start, UTC)
    assert sum(1 for t in burst if t > seen_before) > CAP  # the burst was deeper than the feed pages back
