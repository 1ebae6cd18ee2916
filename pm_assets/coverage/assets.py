"""Coverage assets: the per-minute ledger, the daily percentages with their floor check, the dead-man's switch."""

import os
from datetime import UTC, datetime, timedelta

import dagster as dg
from psycopg.types.json import Jsonb

from pm_assets.coverage import deadman, ledger, reconciliation
from pm_assets.coverage.status import StatusThresholds
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.bulk import copy_upsert
from pm_assets.trades.live_edge import repair_open_losses
from pm_assets.trades.loading import run_trade_load


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


@dg.asset(group_name="coverage", kinds={"postgres"})
def coverage_ledger(
    context: dg.AssetExecutionContext, config: CoverageLedgerConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Per source (trade feed, stream, book snapshots, universe crawl) and minute: covered, gap or repaired,
    with the evidence (continuity proofs, loss events, stream gaps, repairs). Refreshed every few minutes by
    the live run (`live_job`); a run of this asset recomputes it at once."""
    return dg.MaterializeResult(metadata=refresh_coverage_ledger(warehouse, config, context.log))


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


@dg.asset(group_name="coverage", kinds={"postgres"}, deps=[coverage_ledger])
def coverage_daily(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Daily coverage percent per source (covered or repaired minutes over minutes the source existed)."""
    return dg.MaterializeResult(metadata=refresh_coverage_daily(warehouse))


@dg.asset_check(
    asset=coverage_daily, description="Today's coverage of every source is at or above the floor."
)
def coverage_above_floor(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    floor = float(os.environ.get("PM_INTEL_COVERAGE_FLOOR_PCT", "99"))
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select source, coverage_pct, gap_minutes from coverage_daily where day = (now() at time zone 'UTC')::date"
        ).fetchall()
    below = {s: round(p, 3) for s, p, _ in rows if p < floor}
    return dg.AssetCheckResult(
        passed=bool(rows) and not below,
        metadata={"floor_pct": floor, "below_floor": str(below or "none"), "sources": len(rows)},
        description=None if rows else "no coverage rows for today: coverage is unproven",
    )


def _notify(edge: deadman.Transition, conn) -> str | None:
    from pm_sensors.alerts.direct_sends import send_system_alert

    results = send_system_alert(f"deadman_{edge.kind}", edge.text, conn=conn)
    if not results:
        return "no system alert destination: add an alert rule of type 'system' or set PM_INTEL_SYSTEM_WEBHOOK_URL"
    failed = [r.text for r in results if not r.ok]
    return "; ".join(failed) if failed else None


@dg.sensor(minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def deadman_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SkipReason:
    """The dead-man's switch: one alert when a heartbeat (or the trade feed while markets are open) goes silent
    past its threshold, one "recovered" message when it comes back."""
    now = datetime.now(UTC)
    with warehouse.connect() as conn:
        fired = deadman.evaluate(conn, now, StatusThresholds.from_env(), _notify)
    for edge in fired:
        context.log.warning("dead-man's switch: %s %s", edge.part, edge.kind)
    return dg.SkipReason(", ".join(f"{e.part} {e.kind}" for e in fired) or "all watched parts beating")


class ReconciliationConfig(dg.Config):
    lookback_minutes: int = 180
    settle_seconds: int = 120  # both sides get this long to deliver a trade before a difference counts


def reconcile_trades(
    warehouse: WarehouseResource,
    data_api: DataApiClient,
    config: ReconciliationConfig,
    run_id: str | None,
    log,
) -> dict:
    """Record stream-vs-feed mismatches and repair what the feed missed; the figures a materialization reports."""
    end = ledger.floor_minute(datetime.now(UTC) - timedelta(seconds=config.settle_seconds))
    start = end - timedelta(minutes=config.lookback_minutes)
    with warehouse.connect() as conn:
        found = reconciliation.record_mismatches(conn, start, end)
    repair = {}
    if found["feed_missing"]:
        outcome = run_trade_load(
            data_api,
            warehouse.connect,
            lambda session, writer: repair_open_losses(session, writer),
            run_id=run_id,
        )
        repair = outcome.metadata
        with warehouse.connect() as conn:
            after = reconciliation.record_mismatches(conn, start, end)
        found["still_missing_after_repair"] = after["feed_missing"]
    if found.get("still_missing_after_repair") or found["stream_missing_open"]:
        log.warning("reconciliation left differences open: %s", found)
    return {**found, **{f"repair_{k}": v for k, v in repair.items()}}


@dg.asset(group_name="coverage", kinds={"postgres"}, deps=[dg.AssetKey("trades")])
def trade_reconciliation(
    context: dg.AssetExecutionContext,
    config: ReconciliationConfig,
    warehouse: WarehouseResource,
    data_api: DataApiClient,
) -> dg.MaterializeResult:
    """Trades seen on the stream against trades from the Data API, per market and minute. What the feed missed
    is repaired at once by a targeted backfill of those markets and minutes; the ledger shows it as repaired.
    The live run (`live_job`) reconciles every two minutes; a run of this asset does it at once."""
    return dg.MaterializeResult(
        metadata=reconcile_trades(warehouse, data_api, config, context.run_id, context.log)
    )
