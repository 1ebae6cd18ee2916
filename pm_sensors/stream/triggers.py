"""What the stream saw → which signal assets to run, per time bucket of the ticks.

A bucket is [start, start + step) on the server timestamps of the ticks. It is complete once a tick of a
later bucket has been stored, and it is emitted once: its run key is `<asset>:<bucket start ISO>`, and the
sensor cursor moves past it. Ticks of a bucket already emitted that arrive late stay for the signal's own
next run (signals read by watermark), rather than firing the bucket twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

ARBITRAGE = "arbitrage_windows"
SPIKES = "price_spikes"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

BUCKET_COUNTS = """
    with t as (
        select %(arb)s as asset, server_ts from ws_price_changes where server_ts >= %(since)s and server_ts < %(until)s
        union all
        select %(arb)s, server_ts from ws_book_snapshots where server_ts >= %(since)s and server_ts < %(until)s
        union all
        select %(spk)s, server_ts from ws_last_trades where server_ts >= %(since)s and server_ts < %(until)s
        union all
        select %(spk)s, server_ts from ws_price_changes where server_ts >= %(since)s and server_ts < %(until)s
    )
    select asset, date_bin(%(step)s, server_ts, %(origin)s) as bucket, count(*)
    from t group by 1, 2 order by 2, 1
"""


@dataclass(frozen=True)
class SignalBucket:
    asset: str
    start: datetime
    end: datetime
    ticks: int

    @property
    def run_key(self) -> str:
        return f"{self.asset}:{self.start.isoformat()}"


def bucket_start(ts: datetime, step_s: int) -> datetime:
    n = int((ts - _EPOCH).total_seconds() // step_s)
    return _EPOCH + timedelta(seconds=n * step_s)


def complete_buckets(
    conn: psycopg.Connection,
    *,
    since: datetime | None,
    last_tick: datetime | None,
    step_s: int,
    max_buckets: int,
) -> tuple[list[SignalBucket], datetime | None]:
    """Buckets with ticks, complete and not yet emitted (the newest `max_buckets`), and the new cursor."""
    if last_tick is None:
        return [], since
    until = bucket_start(last_tick, step_s)  # the bucket holding the newest tick is still filling
    lower = since if since is not None else until - timedelta(seconds=step_s * max_buckets)
    lower = max(lower, until - timedelta(seconds=step_s * max_buckets))
    if lower >= until:
        return [], since
    rows = conn.execute(
        BUCKET_COUNTS,
        {
            "arb": ARBITRAGE,
            "spk": SPIKES,
            "since": lower,
            "until": until,
            "step": timedelta(seconds=step_s),
            "origin": _EPOCH,
        },
    ).fetchall()
    out = [SignalBucket(asset, start, start + timedelta(seconds=step_s), n) for asset, start, n in rows]
    return out, until
