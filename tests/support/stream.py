"""Helpers for the stream suites: a consumer on its own thread and event loop, pm_sim markets in the warehouse."""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from pm_sensors.stream.books import levels_of
from pm_sensors.stream.consumer import StreamConsumer
from pm_sensors.stream.settings import StreamSettings
from tests import loopback
from tests.waiting import HANG_S, wait_for


class ConsumerThread:
    """Runs a StreamConsumer like the job does, and records every raw frame it handled."""

    def __init__(self, settings: StreamSettings, database_url: str, run_id: str | None = None):
        self.consumer = StreamConsumer(settings, database_url, run_id=run_id)
        self.frames: list = []
        self.data_times: list[float] = []  # when each frame that carried events arrived
        handle = self.consumer.handle_frame

        def tapped(raw, received=None):
            received = time.time() if received is None else received
            self.frames.append(raw)
            handle(raw, received)
            if self.consumer.stats.last_data_at == received:
                self.data_times.append(received)

        self.consumer.handle_frame = tapped  # type: ignore[method-assign]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self.error: BaseException | None = None

    def _main(self) -> None:
        async def go() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.consumer.run(self._stop)

        try:
            asyncio.run(go())
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def __enter__(self) -> ConsumerThread:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "consumer did not stop"
        if self.error is not None:
            raise self.error

    def wait_for(self, predicate: Callable[[], object], what: str, hang_s: float = HANG_S) -> None:
        """Poll until predicate() holds; a consumer that died fails at once, only a hang otherwise."""

        def holds() -> object:
            if self.error is not None:
                raise self.error
            return predicate()

        wait_for(holds, what, hang_s=hang_s, context=lambda: f"stats {self.consumer.stats.summary()}")

    def assert_gap_is_the_silence(self, start: datetime, end: datetime) -> None:
        """A recorded gap runs from the last frame with data before it to the first one after it, exactly."""
        times = sorted(self.data_times)
        i = bisect.bisect_right(times, start.timestamp() + 1e-5)
        assert 0 < i < len(times), (start, end)
        before, after = (datetime.fromtimestamp(t, UTC) for t in times[i - 1 : i + 1])
        assert abs(times[i - 1] - start.timestamp()) < 1e-5, (before, start)
        assert abs(times[i] - end.timestamp()) < 1e-5, (after, end)


def sim_markets(sim) -> list[dict]:
    return loopback.get(sim.admin_url + "/markets", params={"list": 1}).json()["list"]


def live_tokens(sim, n_markets: int) -> list[str]:
    live = [m for m in sim_markets(sim) if m["open"] and m["has_book"]][:n_markets]
    return [t for m in live for t in m["token_ids"]]


def seed_universe(url: str, sim) -> list[dict]:
    """The sim's markets and tokens as the universe crawl leaves them (open, with a 24 h volume rank)."""
    markets = sim_markets(sim)
    with psycopg.connect(url) as conn:
        for i, m in enumerate(markets):
            conn.execute(
                "insert into markets (condition_id, market_id, version, active, closed, volume_24h) "
                "values (%s, %s, %s, true, %s, %s)",
                (m["condition_id"], m["id"], m["version"] or "v1", not m["open"], float(1000 - i)),
            )
            for idx, token in enumerate(m["token_ids"]):
                conn.execute(
                    "insert into tokens (token_id, condition_id, outcome_index, outcome, version, has_book) "
                    "values (%s, %s, %s, %s, %s, %s)",
                    (
                        token,
                        m["condition_id"],
                        idx,
                        ["Yes", "No"][idx] if idx < 2 else str(idx),
                        m["version"] or "v1",
                        m["has_book"],
                    ),
                )
    return markets


def freeze_and_sync(sim) -> float:
    """Stop the sim clock and wait until every ws connection has streamed up to it."""
    now = loopback.post(sim.admin_url + "/clock", json={"speed": 0}).json()["now"]

    def synced() -> bool:
        conns = loopback.get(sim.admin_url + "/state").json()["ws_connections"]
        return bool(conns) and all(c["synced_to"] >= now for c in conns)

    wait_for(synced, "the ws stream caught up with the frozen clock", pause_s=0.01)
    return now


def mismatched_books(sim, consumer: StreamConsumer) -> list[str]:
    bad = []
    for asset, book in list(consumer.books.books.items()):
        rest = loopback.get(sim.clob_url + "/book", params={"token_id": asset})
        if rest.status_code == 404:
            continue
        if book.levels() != levels_of(rest.json()):
            bad.append(asset)
    return bad


def compared_books(sim, consumer: StreamConsumer) -> int:
    return sum(
        1
        for a in consumer.books.books
        if loopback.get(sim.clob_url + "/book", params={"token_id": a}).status_code == 200
    )
