"""The coverage ledger: for each source and minute, covered, gap or repaired, with the evidence.

A minute is `covered` only when a proof spans it (the trade feed's continuity proof, a live stream
connection, a book snapshot, a universe crawl). A minute touched by an open gap is `gap`; by a gap since
repaired, `repaired`. A minute with no proof at all is a `gap` too: silence proves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

MINUTE = timedelta(minutes=1)
SOURCES = ("trade_feed", "stream", "book_snapshots", "universe_crawl")


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime
    evidence: dict[str, Any] = field(default_factory=dict)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class SourceEvidence:
    covered: Sequence[Interval] = ()
    open_gaps: Sequence[Interval] = ()
    repaired_gaps: Sequence[Interval] = ()


def floor_minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


def minutes_between(start: datetime, end: datetime) -> list[datetime]:
    first = floor_minute(start)
    out = []
    m = first
    while m < end:
        out.append(m)
        m += MINUTE
    return out


def merged_spans(intervals: Iterable[Interval]) -> list[tuple[datetime, datetime]]:
    spans = sorted((i.start, i.end) for i in intervals)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _spanned(merged: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(s <= start and end <= e for s, e in merged)


def minute_states(
    evidence: SourceEvidence, window_start: datetime, window_end: datetime
) -> list[tuple[datetime, str, dict[str, Any]]]:
    """(minute, state, evidence) for every minute in [window_start, window_end)."""
    covered = merged_spans(evidence.covered)
    rows = []
    for minute in minutes_between(window_start, window_end):
        end = minute + MINUTE
        open_hits = [g for g in evidence.open_gaps if g.overlaps(minute, end)]
        repaired_hits = [g for g in evidence.repaired_gaps if g.overlaps(minute, end)]
        if open_hits:
            rows.append((minute, "gap", {"gaps": [_describe(g) for g in open_hits]}))
        elif repaired_hits:
            rows.append((minute, "repaired", {"gaps": [_describe(g) for g in repaired_hits]}))
        elif _spanned(covered, minute, end):
            proofs = [_describe(i) for i in evidence.covered if i.overlaps(minute, end)][:3]
            rows.append((minute, "covered", {"proofs": proofs}))
        else:
            rows.append((minute, "gap", {"reason": "no proof of coverage for this minute"}))
    return rows


def _describe(interval: Interval) -> dict[str, Any]:
    return {"start": interval.start.isoformat(), "end": interval.end.isoformat(), **interval.evidence}


# --- evidence per source, read from the warehouse -------------------------------------------------------


def trade_feed_evidence(conn: psycopg.Connection, start: datetime, end: datetime) -> SourceEvidence:
    proofs = conn.execute(
        "select id, interval_start, interval_end, kind, evidence->'quarantined_rows' from coverage_proofs "
        "where source = 'trade_feed' and interval_end > %s and interval_start < %s",
        (start, end),
    ).fetchall()
    # A row the poll saw but quarantined was not stored: its possible seconds are a gap, never covered.
    quarantined = [
        Interval(
            datetime.fromtimestamp(q["older_s"], UTC),
            datetime.fromtimestamp(q["newer_s"] + 1, UTC),
            {"proof_id": i, "reason": "row quarantined, not stored", "error": q.get("error")},
        )
        for i, _s, _e, _k, rows in proofs
        for q in rows or []
    ]
    losses = conn.execute(
        "select id, interval_start, interval_end, reason, repaired_at from trade_loss_events "
        "where interval_end > %s and interval_start < %s",
        (start, end),
    ).fetchall()
    return SourceEvidence(
        covered=[Interval(s, e, {"proof_id": i, "kind": k}) for i, s, e, k, _q in proofs],
        open_gaps=[
            Interval(s, e, {"loss_event": i, "reason": r}) for i, s, e, r, rep in losses if rep is None
        ]
        + quarantined,
        repaired_gaps=[
            Interval(s, e, {"loss_event": i, "reason": r, "repaired_at": rep.isoformat()})
            for i, s, e, r, rep in losses
            if rep is not None
        ],
    )


def stream_evidence(
    conn: psycopg.Connection, start: datetime, end: datetime, now: datetime
) -> SourceEvidence:
    """Connected intervals are coverage; recorded gaps are gaps, repaired once the connection resumed
    (a fresh `book` snapshot resynced every book, and the trade feed reconciles the trades)."""
    events = conn.execute(
        "select connection_id, event, started_at, ended_at from stream_health "
        "where event in ('connect', 'disconnect', 'gap') and coalesce(ended_at, started_at, %s) >= %s - interval '1 day' "
        "and started_at < %s order by started_at",
        (now, start, end),
    ).fetchall()
    covered: list[Interval] = []
    open_gaps: list[Interval] = []
    repaired: list[Interval] = []
    connected: dict[str, datetime] = {}
    ended: set[str] = set()
    for connection_id, event, started_at, ended_at in events:
        if event == "connect":
            connected[connection_id] = started_at
        elif event == "disconnect":
            # A disconnect row carries its whole connection: started_at is the connect, ended_at the drop
            # (it sorts beside its connect row, so it is never paired by order).
            ended.add(connection_id)
            covered.append(Interval(started_at, ended_at or started_at, {"connection": connection_id}))
        elif event == "gap":
            gap_end = ended_at
            evidence = {
                "connection": connection_id,
                "gap_s": None if gap_end is None else (gap_end - started_at).total_seconds(),
            }
            (repaired if gap_end is not None else open_gaps).append(
                Interval(started_at, gap_end or now, evidence)
            )
    for connection_id, since in connected.items():
        if connection_id in ended:
            continue
        covered.append(Interval(since, now, {"connection": connection_id, "live": True}))
    return SourceEvidence(covered=covered, open_gaps=open_gaps, repaired_gaps=repaired)


def book_snapshot_evidence(conn: psycopg.Connection, start: datetime, end: datetime) -> SourceEvidence:
    rows = conn.execute(
        "select date_trunc('minute', captured_at) m, count(*) from order_book_snapshots "
        "where captured_at >= %s and captured_at < %s and source = 'rest' group by 1",
        (start, end),
    ).fetchall()
    return SourceEvidence(covered=[Interval(m, m + MINUTE, {"snapshots": n}) for m, n in rows])


def proof_evidence(conn: psycopg.Connection, source: str, start: datetime, end: datetime) -> SourceEvidence:
    rows = conn.execute(
        "select id, interval_start, interval_end, evidence from coverage_proofs "
        "where source = %s and interval_end > %s and interval_start < %s",
        (source, start, end),
    ).fetchall()
    return SourceEvidence(covered=[Interval(s, e, {"proof_id": i, **(ev or {})}) for i, s, e, ev in rows])


def record_proof(
    conn: psycopg.Connection,
    source: str,
    start: datetime,
    end: datetime,
    evidence: dict[str, Any] | None = None,
    kind: str = "observed",
) -> None:
    """A source states it saw everything in [start, end): called where the proof is established."""
    from psycopg.types.json import Jsonb

    if end < start:
        raise ValueError(f"coverage proof for {source} ends before it starts: {start} > {end}")
    conn.execute(
        "insert into coverage_proofs (source, interval_start, interval_end, kind, evidence) values (%s, %s, %s, %s, %s)",
        (source, start, end, kind, Jsonb(evidence or {})),
    )
