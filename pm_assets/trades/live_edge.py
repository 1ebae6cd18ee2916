"""The live edge: page the global `/v2/trades` feed newest first back to where the last poll stopped.

Continuity proof. The cursor `trades_live_edge` keeps a `frontier` (the newest second seen). A poll reads
pages until it sees a row strictly older than the frontier: then every fill at or after the frontier has
passed through it, and the frontier moves to the newest second of this poll. `complete_through` (every
trade strictly before it is stored) only ever moves to a proven point: the frontier, held back to the
start of the earliest unrepaired loss event.

Loss events. When the feed stops paging before the frontier (a burst deeper than the unfiltered feed lets
a client page back, the page budget of a poll, the feed's own month window), the gap between the old
frontier and the oldest row this poll reached is written to `trade_loss_events` with its evidence. The
repair walks `condition=` pages (the backfill path) over that interval for every market that may have
traded in it, marks the loss repaired, and only then lets `complete_through` pass it. Nothing is skipped
silently.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from pm_assets.coverage.ledger import record_proof
from pm_assets.resources.data_api import DataApiSession
from pm_assets.trades import sql
from pm_assets.trades.fill_key import TimestampGroups
from pm_assets.trades.walks import Window, rejected_bounds, walk_conditions_back
from pm_assets.trades.writer import TradeBatchWriter

CURSOR = "trades_live_edge"
DEFAULT_LOOKBACK_S = 600
QUARANTINE_MEMORY = 200  # digests of the bad rows quarantined lately, so a poll keeps each one once


@dataclass
class PollResult:
    pages: int = 0
    newest_s: int | None = None
    oldest_s: int | None = None
    frontier_before_s: int | None = None
    proven: bool = False
    stop_reason: str = ""
    loss_event_id: int | None = None
    complete_through: datetime | None = None
    quarantined_rows: int = 0

    def as_metadata(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def proven_complete_through(conn: psycopg.Connection, frontier_s: int | None) -> datetime | None:
    """The frontier, held back to the earliest unrepaired loss: the only point continuity is proven to."""
    if frontier_s is None:
        return None
    frontier = _ts(frontier_s)
    open_start = sql.earliest_open_loss_start(conn)
    return frontier if open_start is None else min(frontier, open_start)


def _digest(item: object) -> str:
    return hashlib.sha1(repr(item).encode(), usedforsecurity=False).hexdigest()[:16]


def _bounded_spans(quarantined: list[dict], start_s: int, end_s: int) -> list[dict]:
    """Each quarantined row's possible seconds [older_s, newer_s], clipped to the proof it sits in."""
    spans = []
    for q in quarantined:
        older = start_s if q["older_s"] is None else max(start_s, q["older_s"])
        newer = end_s if q["newer_s"] is None else min(end_s, q["newer_s"])
        if older <= newer:
            spans.append({"older_s": older, "newer_s": newer, "error": q["error"]})
    return spans


async def poll_live_edge(
    session: DataApiSession,
    writer: TradeBatchWriter,
    *,
    max_pages: int = 50,
    time_budget_s: float = 40.0,
    lookback_s: int = DEFAULT_LOOKBACK_S,
) -> PollResult:
    """One poll of the global feed back to the frontier; writes fills, the cursor and any loss event.

    Its one production caller is the live pass (pm_sensors/live/live_pass.py), one pass at a time."""
    conn = writer.conn
    _, value = sql.read_cursor(conn, CURSOR)
    conn.commit()
    result = PollResult(frontier_before_s=value.get("frontier_s"))
    boundary_s: int | None = result.frontier_before_s
    groups = TimestampGroups()
    started = time.monotonic()
    result.stop_reason = "feed_end"
    newer_s: int | None = None  # the last valid row's second, to bound a rejected row without its own
    quarantined: list[dict] = []
    remembered: list[str] = list(value.get("quarantined_digests") or [])
    seen_before = set(remembered)
    seen_now: list[str] = []
    async for page in session.trade_pages():
        result.pages += 1
        writer.stats.fetched += page.served
        rows = page.rows
        # Only valid rows move the frontier: a rejected row's time is not to be trusted that far.
        if rows and result.newest_s is None:
            result.newest_s = rows[0].timestamp
            if boundary_s is None:  # first poll ever: coverage starts a little before the newest fill
                boundary_s = result.newest_s - lookback_s
        mine = []
        for bad in page.rejected:
            older, newer = rejected_bounds(page, bad, newer_s)
            if boundary_s is None or newer is None or newer >= boundary_s:
                quarantined.append({"older_s": older, "newer_s": newer, "error": bad.error[:200]})
                digest = _digest(bad.item)
                if digest not in seen_before:  # a bad row above the frontier is read again next poll
                    mine.append(bad)
                    seen_now.append(digest)
        session.quarantine(mine, page.served)
        writer.stats.quarantined_rows += len(mine)
        for kt in groups.push(rows):
            if kt.trade.timestamp >= boundary_s:  # type: ignore[operator]
                writer.add(kt)
            else:
                writer.stats.outside_window += 1
        misordered = [t for t in groups.take_misordered() if boundary_s is None or t.timestamp >= boundary_s]
        session.quarantine_misordered(misordered)
        writer.stats.quarantined_rows += len(misordered)
        quarantined += [
            {"older_s": t.timestamp, "newer_s": t.timestamp, "error": "out of order"} for t in misordered
        ]
        if rows:
            result.oldest_s = rows[-1].timestamp
            newer_s = rows[-1].timestamp
        if rows and boundary_s is not None and rows[-1].timestamp < boundary_s:
            result.proven, result.stop_reason = True, "reached_frontier"
            break
        if result.pages >= max_pages or time.monotonic() - started > time_budget_s:
            result.stop_reason = "poll_budget"
            break
    for kt in groups.finish():
        if boundary_s is not None and kt.trade.timestamp >= boundary_s:
            writer.add(kt)
    writer.flush()
    result.quarantined_rows = len(quarantined)

    if result.newest_s is None:  # an empty feed: nothing happened, nothing to prove
        result.proven = True
    elif not result.proven and boundary_s is not None and result.oldest_s is not None:
        result.loss_event_id = sql.open_loss_event(
            conn,
            _ts(boundary_s),
            _ts(result.oldest_s),
            result.stop_reason,
            {
                "frontier_s": boundary_s,
                "oldest_seen_s": result.oldest_s,
                "newest_seen_s": result.newest_s,
                "pages": result.pages,
                "rows": writer.stats.fetched,
                "detected_by": "live_edge",
            },
        )
        writer.stats.loss_events_opened += 1
    if result.newest_s is not None:
        # The coverage ledger's evidence: every fill from where this poll's proof starts to its newest row.
        proof_start = boundary_s if result.proven else result.oldest_s
        if proof_start is not None and proof_start <= result.newest_s:
            record_proof(
                conn,
                "trade_feed",
                _ts(proof_start),
                _ts(result.newest_s),
                {
                    "pages": result.pages,
                    "stop_reason": result.stop_reason,
                    "proven": result.proven,
                    # Seen but not stored: the ledger marks their seconds as gaps, never as covered.
                    "quarantined_rows": _bounded_spans(quarantined, proof_start, result.newest_s),
                },
            )
    seen = [x for x in (result.newest_s, result.frontier_before_s) if x is not None]
    frontier_s = max(seen) if seen else None
    result.complete_through = proven_complete_through(conn, frontier_s)
    sql.write_cursor(
        conn,
        CURSOR,
        result.complete_through,
        {
            "frontier_s": frontier_s,
            "quarantined_digests": (remembered + seen_now)[-QUARANTINE_MEMORY:],
            "last_poll": result.as_metadata(),
            "polled_at": datetime.now(UTC).isoformat(),
        },
    )
    conn.commit()
    return result


async def repair_open_losses(session: DataApiSession, writer: TradeBatchWriter, concurrency: int = 4) -> int:
    """Repair every unrepaired loss event from the backfill path; returns how many were repaired."""
    conn = writer.conn
    losses = sql.open_loss_events(conn)
    conn.commit()
    repaired = 0
    for loss_id, start, end in losses:
        # A loss found by reconciliation names its markets: repair exactly those, not the whole universe.
        markets = sql.loss_event_markets(conn, loss_id) or sql.markets_trading_since(conn, start)
        conn.commit()
        if not markets:
            continue  # no market universe yet: repairing against nothing would prove nothing
        before = (
            writer.stats.inserted,
            writer.stats.duplicates,
            session.http.stats.requests,
            writer.stats.quarantined_rows,
        )
        window = Window(int(start.timestamp()), int(end.timestamp()))
        await walk_conditions_back(session, markets, window, writer, concurrency=concurrency)
        sql.mark_loss_repaired(
            conn,
            loss_id,
            {
                "markets_walked": len(markets),
                "rows_inserted": writer.stats.inserted - before[0],
                "rows_already_present": writer.stats.duplicates - before[1],
                "requests": session.http.stats.requests - before[2],
                "rows_quarantined": writer.stats.quarantined_rows - before[3],
                "path": "condition_walk",
            },
        )
        writer.stats.loss_events_repaired += 1
        repaired += 1
        conn.commit()
    _, value = sql.read_cursor(conn, CURSOR)
    if value:
        sql.write_cursor(conn, CURSOR, proven_complete_through(conn, value.get("frontier_s")), value)
    conn.commit()
    return repaired
