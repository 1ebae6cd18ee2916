"""Simulation clock: sim seconds advance at `speed` x real time; 0 freezes it (advance via admin)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

DEFAULT_START = datetime(2026, 11, 20, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, start: float = DEFAULT_START, speed: float = 1.0):
        self._lock = threading.Lock()
        self._base_sim = float(start)
        self._base_real = time.monotonic()
        self._speed = float(speed)
        self.start = float(start)

    def now(self) -> float:
        with self._lock:
            return self._base_sim + (time.monotonic() - self._base_real) * self._speed

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    @property
    def speed(self) -> float:
        return self._speed

    def _rebase(self) -> None:
        real = time.monotonic()
        self._base_sim += (real - self._base_real) * self._speed
        self._base_real = real

    def set(self, t: float) -> None:
        with self._lock:
            self._base_real = time.monotonic()
            self._base_sim = float(t)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._rebase()
            self._base_sim += float(seconds)

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self._rebase()
            self._speed = float(speed)


def iso(t: float, frac: bool = True) -> str:
    d = datetime.fromtimestamp(t, UTC)
    if frac:
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}Z"
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_space(t: float) -> str:
    """Gamma's second date format (closedTime, gameStartTime): 'YYYY-MM-DD HH:MM:SS+00'."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def iso_date(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")
