"""What the stream consumer counts: the figures behind stream_health 'stats' rows, the heartbeat and run metadata."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

_LAG_SAMPLE_EVERY = 8  # a lag sample every 8th event keeps the window cheap at 20k msg/s
_LAG_WINDOW_CAP = 50_000


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class StreamStats:
    messages: int = 0  # events applied (after de-duplication)
    frames: int = 0
    duplicates: int = 0
    stale: int = 0  # updates older than what the book already held (reordered)
    bad_frames: int = 0  # events (or price_changes[] entries) refused at parse time or by the warehouse
    quarantined: int = 0  # of those, kept in raw_payloads (at most a few hundred a minute; the rest counted)
    unknown_events: int = 0
    connects: int = 0
    disconnects: int = 0
    stalls: int = 0
    gaps: int = 0
    gap_seconds_total: float = 0.0
    rows_written: int = 0
    flush_failures: int = 0
    flush_failures_in_a_row: int = 0
    rows_dropped: int = 0  # rows given up because the warehouse stayed unreachable past the held-rows cap
    flushes: int = 0
    flush_ms_max: float = 0.0
    flush_ms_total: float = 0.0
    flush_rows_max: int = 0
    last_data_at: float | None = None  # wall clock of the last data frame
    last_tick_ms: int = 0  # newest server timestamp seen (the stream's own clock, for signal time buckets)
    _window_start: float = field(default_factory=time.time)
    _window_messages: int = 0
    _lag_ms: list[float] = field(default_factory=list)
    _n: int = 0

    def count_event(self, received: float, server_ts_ms: int) -> None:
        self.messages += 1
        self._window_messages += 1
        self._n += 1
        if server_ts_ms > self.last_tick_ms:
            self.last_tick_ms = server_ts_ms
        if self._n % _LAG_SAMPLE_EVERY == 0 and len(self._lag_ms) < _LAG_WINDOW_CAP:
            self._lag_ms.append(received * 1000.0 - server_ts_ms)

    def record_flush(self, ms: float, rows: int) -> None:
        self.flushes += 1
        self.flush_ms_total += ms
        self.flush_ms_max = max(self.flush_ms_max, ms)
        self.flush_rows_max = max(self.flush_rows_max, rows)

    def lag_p50_p99(self) -> tuple[float | None, float | None]:
        return percentile(self._lag_ms, 0.5), percentile(self._lag_ms, 0.99)

    def roll_window(self, now: float) -> tuple[float, int, float | None, float | None]:
        """Close the stats window: (window start, messages in it, lag p50, lag p99), and open the next."""
        p50, p99 = self.lag_p50_p99()
        start, msgs = self._window_start, self._window_messages
        self._window_start, self._window_messages, self._lag_ms = now, 0, []
        return start, msgs, p50, p99

    def summary(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        out["last_data_at"] = utc(self.last_data_at).isoformat() if self.last_data_at else None
        p50, p99 = self.lag_p50_p99()
        out["lag_ms_p50"], out["lag_ms_p99"] = p50, p99
        return out
