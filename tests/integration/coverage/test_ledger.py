"""The coverage ledger: minute states from proofs, loss events and stream gaps, on a real warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage.assets import coverage_above_floor, coverage_daily, coverage_ledger
from pm_assets.coverage.ledger import Interval, SourceEvidence, minute_states, record_proof
from pm_assets.resources.warehouse import WarehouseResource

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_minute_states_prefer_open_gaps_then_repairs_then_proofs():
    evidence = SourceEvidence(
        covered=[Interval(at(0), at(4)), Interval(at(4), at(6))],
        open_gaps=[Interval(at(2) + timedelta(seconds=30), at(2) + timedelta(seconds=50), {"loss_event": 7})],
        repaired_gaps=[Interval(at(4), at(5), {"loss_event": 3})],
    )
    states = [(m.minute, s) for m, s, _ in minute_states(evidence, at(0), at(8))]
    assert states == [
        (0, "covered"),
        (1, "covered"),
        (2, "gap"),
        (3, "covered"),
        (4, "repaired"),
        (5, "covered"),
        (6, "gap"),
        (7, "gap"),
    ]


def test_a_minute_only_partly_proven_is_a_gap_with_its_reason():
    evidence = SourceEvidence(covered=[Interval(at(0), at(0.5))])
    [(minute, state, detail)] = minute_states(evidence, at(0), at(1))
    assert state == "gap" and detail == {"reason": "no proof of coverage for this minute"}


def _materialize(url, assets, **kw):
    return dg.materialize(assets, resources={"warehouse": WarehouseResource(database_url=url)}, **kw)


def test_ledger_asset_records_feed_proofs_losses_and_stream_gaps(warehouse_url):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=30)
    with psycopg.connect(warehouse_url) as conn:
        record_proof(conn, "trade_feed", start, now - timedelta(minutes=1))
        conn.execute(
            "insert into trade_loss_events (interval_start, interval_end, reason, repaired_at) values (%s, %s, 'burst', %s)",
            (start + timedelta(minutes=10, seconds=5), start + timedelta(minutes=12, seconds=40), now),
        )
        conn.execute(
            "insert into stream_health (connection_id, event, started_at, ended_at) values "
            "('c1', 'connect', %s, null), ('c1', 'gap', %s, %s)",
            (start, start + timedelta(minutes=20, seconds=10), start + timedelta(minutes=20, seconds=14)),
        )
    result = _materialize(
        warehouse_url,
        [coverage_ledger],
        run_config={"ops": {"coverage_ledger": {"config": {"settle_seconds": 0}}}},
    )
    assert result.success
    with psycopg.connect(warehouse_url) as conn:
        feed = dict(
            conn.execute(
                "select extract(epoch from minute - %s)::int / 60, state from coverage_ledger where source = 'trade_feed'",
                (start,),
            ).fetchall()
        )
        gap = conn.execute(
            "select evidence from coverage_ledger where source = 'stream' and state = 'repaired'"
        ).fetchall()
    assert [m for m, s in sorted(feed.items()) if s == "repaired"] == [10, 11, 12]
    assert feed[0] == "covered" and feed[9] == "covered" and feed[13] == "covered"
    assert feed[29] == "gap", "the last minute has no proof yet"
    assert len(gap) == 1 and gap[0][0]["gaps"][0]["gap_s"] == 4.0

    again = _materialize(
        warehouse_url,
        [coverage_ledger],
        run_config={"ops": {"coverage_ledger": {"config": {"settle_seconds": 0}}}},
    )
    assert again.success
    with psycopg.connect(warehouse_url) as conn:
        assert (
            conn.execute("select count(*) from coverage_ledger where source = 'trade_feed'").fetchone()[0]
            == 30
        )


def test_the_stream_is_judged_from_its_first_connection_not_its_first_stats_row(warehouse_url):
    """Issue 17: the consumer's per-minute stats window opens when it starts, 26 s before it connected on a busy
    machine; that minute was a stream gap for the rest of the day (66.67% at a fresh demo's first ledger)."""
    from pm_assets.coverage.ledger_refresh import build_ledger_rows

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    started = now - timedelta(minutes=6) + timedelta(seconds=40)
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into stream_health (connection_id, event, started_at, ended_at) values "
            "('s1', 'stats', %s, %s), ('s1-1', 'connect', %s, null)",
            (started, started + timedelta(minutes=1), started + timedelta(seconds=26)),
        )
        rows, _ = build_ledger_rows(conn, now, timedelta(hours=1), timedelta())
    stream = {minute: state for source, minute, state, _detail, _at in rows if source == "stream"}
    assert min(stream) == now - timedelta(minutes=4)  # the first whole minute after the connect
    assert set(stream.values()) == {"covered"}, stream


def test_daily_coverage_and_its_floor_check(warehouse_url, monkeypatch):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into coverage_ledger (source, minute, state) select 'trade_feed', "
            "date_trunc('day', now()) + make_interval(mins => g), case when g < 98 then 'covered' else 'gap' end "
            "from generate_series(0, 99) g"
        )
    monkeypatch.setenv("PM_INTEL_COVERAGE_FLOOR_PCT", "99")
    result = _materialize(warehouse_url, [coverage_daily, coverage_above_floor], raise_on_error=False)
    checks = result.get_asset_check_evaluations()
    assert [c.passed for c in checks] == [False]
    with psycopg.connect(warehouse_url) as conn:
        assert (
            conn.execute("select coverage_pct from coverage_daily where source = 'trade_feed'").fetchone()[0]
            == 98.0
        )
    monkeypatch.setenv("PM_INTEL_COVERAGE_FLOOR_PCT", "97.5")
    result = _materialize(warehouse_url, [coverage_daily, coverage_above_floor])
    assert [c.passed for c in result.get_asset_check_evaluations()] == [True]


def test_a_closed_connection_covers_its_minutes_and_a_reconnect_gap_is_repaired(warehouse_url):
    """The consumer writes one 'disconnect' row per ended connection (started_at = its connect, ended_at =
    the drop), beside the 'connect' row with the same started_at: the whole connection is coverage."""
    from pm_assets.coverage.ledger import stream_evidence

    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into stream_health (connection_id, event, started_at, ended_at) values "
            "('s-1', 'disconnect', %(c1)s, %(d1)s), ('s-1', 'connect', %(c1)s, null), "
            "('s-1', 'gap', %(d1)s, %(c2)s), ('s-2', 'connect', %(c2)s, null), "
            "('s-2', 'disconnect', %(c2)s, %(d2)s)",
            {
                "c1": at(0),
                "d1": at(3) + timedelta(seconds=20),
                "c2": at(3) + timedelta(seconds=40),
                "d2": at(6),
            },
        )
        evidence = stream_evidence(conn, at(0), at(10), at(10))
    states = [s for _, s, _ in minute_states(evidence, at(0), at(10))]
    # After the last drop nothing was connected and no gap was recorded yet: unproven, so a gap.
    assert states == ["covered"] * 3 + ["repaired"] + ["covered"] * 2 + ["gap"] * 4
