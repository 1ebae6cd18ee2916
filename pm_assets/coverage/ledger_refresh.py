"""Refreshing the coverage tables: `coverage_ledger` (each source's minutes, judged by `ledger`) and
`coverage_daily` (the daily percentages). The assets of the same names and the live run call these functions."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from psycopg.types.json import Jsonb

from pm_assets.coverage import ledger
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.bulk import copy_upsert


class CoverageLedgerConfig(dg.Config):
    lookback_minutes: int = 24 * 60
    settle_seconds: int = 120  # the newest minutes wait for late evidence before they are judged


def _source_start(conn, source: str):
    """The first evidence a source ever left: minutes before it are not gaps, the source did not exist yet."""
    queries = {
        "trade_feed": "select least((select min(interval_start) from coverage_proofs where source = 'trade_feed'),"
        " (select min(interval_start) from trade_loss_events))",
        # Its first connection, not its first row: the consumer's per-minute 'stats' rows start when it starts,
        # before it has connected (26 s on a busy machine), and that minute would be a gap for the whole day.
        "stream": "select min(started_at) from stream_health where event in ('connect', 'disconnect', 'gap')",
        "book_snapshots": "select min(captured_at) from order_book_snapshots where source = 'rest'",
        "universe_crawl": "select min(interval_start) from coverage_proofs where source = 'universe_crawl'",
    }
    row = conn.execute(queries[source]).fetchone()
    return row[0] if row else None


def build_ledger_rows(
    conn, now: datetime, lookback: timedelta, settle: timedelta
) -> tuple[list[tuple], dict]:
    window_end = ledger.floor_minute(now - settle)
    rows: list[tuple] = []
    summary: dict[str, dict[str, int]] = {}
    for source in ledger.SOURCES:
        first = _source_start(conn, source)
        if first is None:
            continue
        # The first minute a source existed is only partly its own: judging starts at the next whole minute.
        first_whole = ledger.floor_minute(first) + (
            ledger.MINUTE if first != ledger.floor_minute(first) else timedelta()
        )
        start = max(window_end - lookback, first_whole)
        if source == "trade_feed":
            evidence = ledger.trade_feed_evidence(conn, start, window_end)
        elif source == "stream":
            evidence = ledger.stream_evidence(conn, start, window_end, now)
        elif source == "book_snapshots":
            evidence = ledger.book_snapshot_evidence(conn, start, window_end)
        else:
            evidence = ledger.proof_evidence(conn, source, start, window_end)
        counts = {"covered": 0, "gap": 0, "repaired": 0}
        for minute, state, detail in ledger.minute_states(evidence, start, window_end):
            rows.append((source, minute, state, Jsonb(detail), now))
            counts[state] += 1
        summary[source] = counts
    return rows, summary


def refresh_coverage_ledger(warehouse: WarehouseResource, config: CoverageLedgerConfig, log) -> dict:
    """The ledger's minutes over the lookback window; the figures a materialization reports."""
    now = datetime.now(UTC)
    with warehouse.connect() as conn:
        rows, summary = build_ledger_rows(
            conn, now, timedelta(minutes=config.lookback_minutes), timedelta(seconds=config.settle_seconds)
        )
        result = copy_upsert(
            conn,
            "coverage_ledger",
            ("source", "minute", "state", "evidence", "updated_at"),
            rows,
            key=("source", "minute"),
            update=("state", "evidence", "updated_at"),
        )
    for source, counts in summary.items():
        if counts["gap"]:
            log.warning(
                "%s: %d gap minute(s) in the last %d minutes", source, counts["gap"], config.lookback_minutes
            )
    return {
        "minutes_written": result.inserted + result.updated,
        **{f"{source}_{state}": n for source, counts in summary.items() for state, n in counts.items()},
    }


DAILY_SQL = """
insert into coverage_daily (source, day, covered_minutes, repaired_minutes, gap_minutes, expected_minutes, coverage_pct, updated_at)
select source, (minute at time zone 'UTC')::date,
       count(*) filter (where state = 'covered'), count(*) filter (where state = 'repaired'),
       count(*) filter (where state = 'gap'), count(*),
       100.0 * count(*) filter (where state in ('covered', 'repaired')) / count(*), now()
from coverage_ledger where minute >= %s
group by 1, 2
on conflict (source, day) do update set covered_minutes = excluded.covered_minutes,
    repaired_minutes = excluded.repaired_minutes, gap_minutes = excluded.gap_minutes,
    expected_minutes = excluded.expected_minutes, coverage_pct = excluded.coverage_pct, updated_at = now()
"""


def refresh_coverage_daily(warehouse: WarehouseResource) -> dict:
    since = datetime.now(UTC).date() - timedelta(days=2)
    with warehouse.connect() as conn:
        conn.execute(DAILY_SQL, (since,))
        rows = conn.execute(
            "select source, coverage_pct from coverage_daily where day = (now() at time zone 'UTC')::date"
        ).fetchall()
    return {f"{s}_pct_today": round(p, 3) for s, p in rows}
