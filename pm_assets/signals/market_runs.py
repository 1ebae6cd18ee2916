"""How a market-signal run goes: resolve thresholds, replay the stored inputs since the watermark, upsert, advance.

Shared by arbitrage_windows and price_spikes, as insider_runs.py is by the insider signals: each signal module's
`evaluate(log, warehouse, config)` calls `run_market_signal` with its materialization, and the assets
(market_assets.py), the live run's periodic task (pm_sensors/live/periodic.py) and the benchmarks call that.
Rows are keyed by signal_key, so a re-run or a rescan (`rescan_from`) upserts in place; an alert stored under
other thresholds is never rewritten or removed (it may have been delivered). `what_if: true` evaluates the last
day (or from rescan_from) through the backtest's replay and writes to signal_what_if, leaving the table alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from pm_assets.signals import arbitrage, spikes
from pm_assets.signals.incremental import (
    TradeWindow,
    advance_watermark,
    alerts_under_other_thresholds,
    cursor_name,
    read_watermark,
)
from pm_assets.signals.launchpad import is_what_if, run_thresholds, write_what_if
from pm_assets.signals.market_inputs import (
    earliest_price_time,
    earliest_tick_time,
    latest_price_time,
    latest_tick_time,
    replay_arbitrage,
    replay_spikes,
    window_replay_start,
    write_windows,
)
from pm_assets.signals.spec import SignalSpec
from pm_assets.storage.bulk import copy_upsert

WHAT_IF_SPAN = timedelta(hours=24)

# (connection, thresholds, rescan_from) -> what the run did (counts, times; None values are dropped)
Materialize = Callable[..., dict[str, Any]]


def rescan_at(value: str | None) -> datetime | None:
    """The Launchpad's `rescan_from`, refused with one line unless it is an ISO timestamp with a time zone."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise dg.Failure(description=f"rescan_from must be an ISO timestamp, got {value!r}") from exc
    if at.tzinfo is None:
        raise dg.Failure(description=f"rescan_from needs a time zone (e.g. +00:00), got {value!r}")
    return at


def what_if(
    conn: psycopg.Connection, spec: SignalSpec, values: dict[str, Any], start: datetime | None
) -> dict:
    """Evaluate through the backtest's replay (the same pure rules) and store beside the live table."""
    from pm_assets.signals.backtest import EVALUATORS

    end = datetime.now(UTC)
    fired = EVALUATORS[spec.signal_type](conn, values, start or end - WHAT_IF_SPAN, end)
    rows = [{**ref.row, "signal_key": ref.signal_key} for ref in fired]
    what_if_id, written = write_what_if(conn, spec.signal_type, values, rows)
    return {"what_if_id": what_if_id, "what_if_table": "signal_what_if", "rows": written}


def run_market_signal(
    log: Any, warehouse: Any, spec: SignalSpec, config: dg.Config, materialize: Materialize
) -> dg.MaterializeResult:
    """One run of a market signal under the thresholds in force (saved override, PM_INTEL_<NAME>, default, or
    what the Launchpad set); the result's metadata is what the run read and wrote, and those thresholds."""
    rescan_from = rescan_at(getattr(config, "rescan_from", ""))
    with warehouse.connect() as conn:
        values = run_thresholds(conn, spec, config, log)
        if is_what_if(config):
            result = what_if(conn, spec, values, rescan_from)
        else:
            result = materialize(conn, spec.thresholds.from_values(values), rescan_from=rescan_from)
    log.info(f"{spec.asset}: {result}")
    return dg.MaterializeResult(
        metadata={**{k: v for k, v in result.items() if v is not None}, "thresholds": values}
    )


def materialize_arbitrage(
    conn: psycopg.Connection,
    th: arbitrage.ArbitrageThresholds,
    *,
    lookback: timedelta = timedelta(minutes=1),
    rescan_from: datetime | None = None,
) -> dict[str, Any]:
    """One incremental run: replay ticks since the watermark (minus `lookback`), upsert windows, move the mark.

    `rescan_from` replays from that time instead (backfill or new thresholds) and leaves the watermark alone.
    """
    end = latest_tick_time(conn)
    if end is None:
        return {"windows": 0, "reason": "no book ticks stored"}
    cursor = cursor_name("arbitrage_windows")
    if rescan_from is not None:
        start0 = rescan_from
    else:
        mark = read_watermark(conn, cursor)
        start0 = mark - lookback if mark is not None else earliest_tick_time(conn)
    start = window_replay_start(conn, start0)
    replayed, sets = replay_arbitrage(conn, th, start, end)
    windows = [w for w in replayed if w.opened_at >= start]
    result = write_windows(
        conn, [arbitrage.window_row(w, th) for w in windows], arbitrage.ROW_COLUMNS, start, th.as_dict()
    )
    if rescan_from is None:
        advance_watermark(conn, TradeWindow(cursor=cursor, ingested_through=end), detail={"sets": sets})
    return {
        "windows": len(windows),
        "open": sum(w.closed_at is None for w in windows),
        "suppressed": sum(w.suppressed_reason is not None for w in windows),
        "sets": sets,
        "replayed_from": start.isoformat(),
        "through": end.isoformat(),
        **result,
    }


def materialize_spikes(
    conn, th: spikes.SpikeThresholds, *, rescan_from: datetime | None = None
) -> dict[str, Any]:
    """One incremental run over prices since the watermark (minus two windows), upserting spikes in place."""
    end = latest_price_time(conn)
    if end is None:
        return {"spikes": 0, "reason": "no prices stored"}
    window = timedelta(minutes=th.window_minutes)
    cursor = cursor_name("price_spikes")
    mark = read_watermark(conn, cursor) if rescan_from is None else None
    start = rescan_from or (mark - 2 * window if mark is not None else earliest_price_time(conn))
    # A move already stored keeps its token quiet, so a replay starting mid-move never stores it twice.
    quiet = dict(
        conn.execute(
            """select token_id, max(window_end) from price_spikes where kind = 'price_move' and window_end >= %s
           and window_end < %s group by token_id""",
            (start - window, start),
        ).fetchall()
    )
    quiet = {k: v + window for k, v in quiet.items()}
    found = replay_spikes(conn, th, start, end, quiet)
    # An alert stored under other thresholds may have been delivered: it is not rewritten.
    kept = alerts_under_other_thresholds(conn, "price_spikes", [s.signal_key for s in found], th.as_dict())
    found = [s for s in found if s.signal_key not in kept]
    result = copy_upsert(
        conn,
        "price_spikes",
        spikes.ROW_COLUMNS,
        [(*s.row()[:-1], Jsonb(s.evidence)) for s in found],
        key=["signal_key"],
        update=[c for c in spikes.ROW_COLUMNS if c != "signal_key"],
    )
    if rescan_from is None:
        advance_watermark(conn, TradeWindow(cursor=cursor, ingested_through=end))
    return {
        "spikes": len(found),
        "suppressed": sum(s.suppressed_reason is not None for s in found),
        "inserted": result.inserted,
        "updated": result.updated,
        "through": end.isoformat(),
    }
