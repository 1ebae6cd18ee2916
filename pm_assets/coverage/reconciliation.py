"""Stream-versus-feed reconciliation: trades the websocket saw (`last_trade_price`) against trades the
Data API served, per market and minute, after a settling delay.

- The stream saw more than the feed: the feed missed trades. The minute is opened as a trade loss event
  (reason `reconciliation`, the markets in its evidence) so the trade repair path backfills exactly it.
- The feed saw more than the stream: the stream missed them. Explained when the minute lies in a recorded
  stream gap; otherwise it stays open, because a stream that drops trades silently is itself a finding.
Only what the stream was watching is compared: a market from its first stream evidence in the window, a minute
only when a stream connection (or a recorded gap) spans all of it. Minutes before the stream first connected
(the trade feed's first lookback on a fresh start) or after it stopped with nothing recorded are nobody's gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from pm_assets.coverage import ledger
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades.live_edge import repair_open_losses
from pm_assets.trades.loading import run_trade_load

# `watched`: the markets with stream evidence in the window (read once, by stream_watch).
# Both sides count distinct (token, second, price, size, side): the stream stores one row per distinct fill as
# its frame shows it (a taker matched twice at one price and size in one transaction is one row there, two
# fills in the feed), the feed has whole seconds and real frames carry no transaction hash. A trade the other
# side lacks still changes the count.
MISMATCH_SQL = """
with watched as (select unnest(%(watched)s::text[]) as condition_id),
s as (
    select condition_id, date_trunc('minute', server_ts) as minute,
           count(distinct (token_id, date_trunc('second', server_ts), price, size, side)) as n
    from ws_last_trades where server_ts >= %(start)s and server_ts < %(end)s group by 1, 2
),
f as (
    select t.condition_id, date_trunc('minute', t.traded_at) as minute,
           count(distinct (t.token_id, date_trunc('second', t.traded_at), t.price, t.size, t.side)) as n
    from trades t join watched w using (condition_id)
    where t.traded_at >= %(start)s and t.traded_at < %(end)s and t.is_taker group by 1, 2
)
select coalesce(s.condition_id, f.condition_id), coalesce(s.minute, f.minute), coalesce(s.n, 0), coalesce(f.n, 0)
from s full join f on s.condition_id = f.condition_id and s.minute = f.minute
where coalesce(s.n, 0) <> coalesce(f.n, 0)
order by 2, 1
"""


@dataclass(frozen=True)
class Mismatch:
    condition_id: str
    minute: datetime
    stream_trades: int
    feed_trades: int

    @property
    def feed_missing(self) -> bool:
        return self.stream_trades > self.feed_trades


def find_mismatches(
    conn: psycopg.Connection, start: datetime, end: datetime, watched: list[str] | None = None
) -> list[Mismatch]:
    if watched is None:
        watched = list(stream_watch(conn, start, end).first_seen)
    params = {"start": start, "end": end, "watched": watched}
    return [Mismatch(*row) for row in conn.execute(MISMATCH_SQL, params).fetchall()]


FIRST_SEEN_SQL = """
select condition_id, min(ts) from (
    select condition_id, min(server_ts) as ts from ws_book_snapshots
    where server_ts >= %(start)s and server_ts < %(end)s group by 1
    union all
    select condition_id, min(server_ts) from ws_last_trades
    where server_ts >= %(start)s and server_ts < %(end)s group by 1
) firsts group by 1
"""


@dataclass(frozen=True)
class StreamWatch:
    """What the stream was watching in a window: whole minutes it was connected (or in a recorded gap),
    and each market's first evidence (its subscription's book, or its first trade)."""

    spans: list[tuple[datetime, datetime]]
    first_seen: dict[str, datetime]

    def watched(self, condition_id: str, minute: datetime) -> bool:
        first = self.first_seen.get(condition_id)
        end = minute + ledger.MINUTE
        return first is not None and first <= minute and any(s <= minute and end <= e for s, e in self.spans)


def stream_watch(conn: psycopg.Connection, start: datetime, end: datetime) -> StreamWatch:
    evidence = ledger.stream_evidence(conn, start, end, end)
    spans = ledger.merged_spans([*evidence.covered, *evidence.open_gaps, *evidence.repaired_gaps])
    first_seen: dict[str, datetime] = dict(
        conn.execute(FIRST_SEEN_SQL, {"start": start, "end": end}).fetchall()
    )
    return StreamWatch(spans, first_seen)


def stream_gap_minutes(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    return conn.execute(
        "select started_at, coalesce(ended_at, %s) from stream_health where event = 'gap' "
        "and coalesce(ended_at, %s) > %s and started_at < %s",
        (end, end, start, end),
    ).fetchall()


def record_mismatches(conn: psycopg.Connection, start: datetime, end: datetime) -> dict[str, int]:
    """Store what one side has and the other lacks; open loss events for what the feed missed."""
    from pm_assets.trades import sql as trade_sql

    gaps = stream_gap_minutes(conn, start, end)
    watch = stream_watch(conn, start, end)
    counts = {
        "feed_missing": 0,
        "stream_missing_explained": 0,
        "stream_missing_open": 0,
        "stream_not_watching": 0,
        "resolved": 0,
    }
    by_minute: dict[datetime, list[str]] = {}
    seen: set[tuple[str, datetime]] = set()
    for m in find_mismatches(conn, start, end, list(watch.first_seen)):
        if not m.feed_missing and not watch.watched(m.condition_id, m.minute):
            # The feed has trades from a minute the stream was not watching: not a stream gap, no finding.
            counts["stream_not_watching"] += 1
            continue
        seen.add((m.condition_id, m.minute))
        if m.feed_missing:
            state = "open"
            by_minute.setdefault(m.minute, []).append(m.condition_id)
            counts["feed_missing"] += 1
        elif any(gs < m.minute + timedelta(minutes=1) and m.minute < ge for gs, ge in gaps):
            state = "explained"
            counts["stream_missing_explained"] += 1
        else:
            state = "open"
            counts["stream_missing_open"] += 1
        conn.execute(
            "insert into reconciliation_mismatches (condition_id, minute, stream_trades, feed_trades, state, detail) "
            "values (%s, %s, %s, %s, %s, %s) on conflict (condition_id, minute) do update set "
            "stream_trades = excluded.stream_trades, feed_trades = excluded.feed_trades, "
            "state = case when reconciliation_mismatches.state = 'repaired' then 'repaired' else excluded.state end, "
            "detail = excluded.detail",
            (
                m.condition_id,
                m.minute,
                m.stream_trades,
                m.feed_trades,
                state,
                Jsonb({"side_missing": "feed" if m.feed_missing else "stream"}),
            ),
        )
    for minute, condition_ids in by_minute.items():
        trade_sql.open_loss_event(
            conn,
            minute,
            minute + timedelta(minutes=1),
            "reconciliation",
            {"condition_ids": sorted(condition_ids), "detected_by": "reconciliation"},
        )
    # Mismatches that no longer mismatch (the repair landed, or late rows arrived) are closed.
    for condition_id, minute, side_missing in conn.execute(
        "select condition_id, minute, detail->>'side_missing' from reconciliation_mismatches "
        "where state = 'open' and minute >= %s and minute < %s",
        (start, end),
    ).fetchall():
        if (condition_id, minute) in seen:
            continue
        if side_missing == "stream" and not watch.watched(condition_id, minute):
            # Opened before the stream's watch was taken into account: withdrawn, not "repaired".
            conn.execute(
                "update reconciliation_mismatches set state = 'explained', "
                'detail = detail || \'{"explained_by": "the stream was not watching this minute"}\' '
                "where condition_id = %s and minute = %s",
                (condition_id, minute),
            )
            continue
        conn.execute(
            "update reconciliation_mismatches set state = 'repaired', repaired_at = now() "
            "where condition_id = %s and minute = %s",
            (condition_id, minute),
        )
        counts["resolved"] += 1
    return counts


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
        found = record_mismatches(conn, start, end)
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
            after = record_mismatches(conn, start, end)
        found["still_missing_after_repair"] = after["feed_missing"]
    if found.get("still_missing_after_repair") or found["stream_missing_open"]:
        log.warning("reconciliation left differences open: %s", found)
    return {**found, **{f"repair_{k}": v for k, v in repair.items()}}
