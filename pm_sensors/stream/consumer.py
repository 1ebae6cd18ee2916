"""The stream consumer: connection loop, books, batched persistence, health rows and the heartbeat.

It reconnects by itself (with backoff) on a dropped socket, a silent stall or any other connection error, so a
Dagster-supervised restart is the rare case. A gap is the time without data: from the last data frame before
a fault (or before the previous consumer stopped, read from its heartbeat) to the first one after it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import psycopg
import websockets

from pm_assets.resources.rows import log_safe
from pm_assets.storage.urls import libpq_url, mask_secrets, mask_url

from .books import BookSet
from .connection import MarketChannel, StallDetected
from .frames import (
    Book,
    LastTrade,
    MarketResolved,
    NewMarket,
    PriceChange,
    TickSizeChange,
    parse_frame,
)
from .health import StreamStats, utc
from .persistence import (
    QUARANTINE,
    TICK_TABLES,
    RowBuffer,
    last_heartbeat,
    prepare_writer,
    received_text,
    write_batch,
)
from .selection import selected_tokens
from .settings import StreamSettings

log = logging.getLogger("pm_intel.stream")
_DEDUPE_CAP = 200_000
# While the warehouse is unreachable the rows are held for the next flush, up to this many; past it the oldest
# are given up (logged, counted, and recorded as a stream gap so coverage never claims them).
_MAX_HELD_ROWS = 500_000
_BAD_FRAME_LOG_LIMIT = 20  # per stats window; the rest are counted only
_QUARANTINE_LIMIT = 500  # refused events kept in raw_payloads per stats window; the rest are counted only


def dedupe_key(ev: object) -> tuple:
    if isinstance(ev, PriceChange):
        return (
            "p",
            ev.market,
            ev.ts_ms,
            tuple((c.asset_id, c.side, c.price, c.size, c.hash) for c in ev.changes),
        )
    if isinstance(ev, Book):
        return ("b", ev.asset_id, ev.ts_ms, ev.hash)
    if isinstance(ev, LastTrade):
        return ("t", ev.asset_id, ev.ts_ms, ev.price, ev.size, ev.side, ev.transaction_hash)
    return (type(ev).__name__, getattr(ev, "asset_id", None) or getattr(ev, "market", None), ev.ts_ms)  # type: ignore[attr-defined]


class StreamConsumer:
    def __init__(
        self,
        settings: StreamSettings,
        database_url: str,
        *,
        run_id: str | None = None,
        logger: logging.Logger | logging.LoggerAdapter | None = None,
        on_commit: Callable[[dict, float], None] | None = None,
    ):
        self.settings = settings
        self.database_url = database_url
        self.run_id = run_id
        self.log = logger or log
        self.on_commit = on_commit
        self.session = uuid.uuid4().hex[:8]
        self.books = BookSet()
        self.buffer = RowBuffer()
        self.buffer.quarantine.run_id = run_id
        self.stats = StreamStats()
        self.tokens: list[str] = []
        self.channel: MarketChannel | None = None
        self.connection_id: str | None = None
        self.started_at = time.time()
        self._seen: dict[int, None] = {}
        self._pending_gap: tuple[float, str, str | None] | None = None
        self._flush_now = asyncio.Event()
        self._last_beat = 0.0
        # Doing its job = connected. The heartbeat carries the last moment it was, and since when every connect
        # has failed (a turning loop that cannot reach the websocket must not read as healthy).
        self._last_ok_at: float | None = None
        self._failing_since: float | None = None
        self._failure: tuple[str, bool] | None = None  # (error, no answer at all)
        self._bad_logged = 0
        self._quarantined_in_window = 0
        self._conn: psycopg.Connection | None = None

    # ---- frame handling (hot path; also driven directly by the benchmark) ----

    def handle_frame(self, raw: str | bytes, received: float | None = None) -> None:
        received = time.time() if received is None else received
        parsed = parse_frame(raw)
        self.stats.frames += 1
        for err in parsed.errors:
            self._bad_frame(err)
        for item, reason in parsed.refused:
            self._quarantine(item, reason)
        self.stats.unknown_events += parsed.unknown
        if not parsed.events:
            return
        rec_dt = received_text(received)
        if self._pending_gap is not None:
            self._close_gap(received)
        self.stats.last_data_at = received
        seen, stats = self._seen, self.stats
        for ev in parsed.events:
            key = hash(dedupe_key(ev))  # 64-bit digests keep the window small (a key can be ~100 strings)
            if key in seen:
                stats.duplicates += 1
                continue
            seen[key] = None
            if len(seen) > _DEDUPE_CAP:
                del seen[next(iter(seen))]
            try:
                self._apply(ev, rec_dt)
            except Exception as exc:  # noqa: BLE001 - one event must never cost the others of its frame
                reason = f"unstorable {type(ev).__name__} ({type(exc).__name__}: {exc})"
                self._bad_frame(reason)
                self._quarantine(_event_evidence(ev), reason)
                continue
            stats.count_event(received, ev.ts_ms)
        if self.buffer.pending >= self.settings.flush_rows:
            self._flush_now.set()

    def _apply(self, ev: object, rec_dt: str) -> None:
        """Buffer the event's rows, then apply it to the books (a row that cannot be built touches neither)."""
        self.buffer.add(ev, rec_dt)
        books, stats = self.books, self.stats
        if isinstance(ev, PriceChange):
            stats.stale += len(ev.changes) - books.apply_changes(ev.ts_ms, ev.changes)
        elif isinstance(ev, Book):
            if not books.apply_snapshot(ev):
                stats.stale += 1
        elif isinstance(ev, TickSizeChange):
            held = books.get(ev.asset_id)
            if held is not None:
                held.tick_size = ev.new_tick_size
        elif isinstance(ev, NewMarket):
            self._watch(ev.assets_ids, f"new market {ev.market}")
        elif isinstance(ev, MarketResolved):
            self._unwatch(ev.assets_ids, f"market {ev.market} resolved (winner {ev.winning_asset_id})")

    def _bad_frame(self, err: str) -> None:
        self.stats.bad_frames += 1
        if self._bad_logged < _BAD_FRAME_LOG_LIMIT:
            self._bad_logged += 1
            self.log.warning(
                "stream: bad frame skipped (%d so far): %s", self.stats.bad_frames, log_safe(err, 400)
            )

    def _quarantine(self, item: object, reason: str) -> None:
        if self._quarantined_in_window >= _QUARANTINE_LIMIT:
            return
        self._quarantined_in_window += 1
        self.stats.quarantined += 1
        self.buffer.refuse("ws market", item, log_safe(reason, 500))

    def _close_gap(self, received: float) -> None:
        assert self._pending_gap is not None
        start, reason, previous = self._pending_gap
        self._pending_gap = None
        length = max(0.0, received - start)
        self.stats.gaps += 1
        self.stats.gap_seconds_total += length
        self.buffer.add_health(
            self.connection_id or self.session,
            "gap",
            utc(start),
            utc(received),
            detail={"reason": reason, "previous_connection": previous, "seconds": round(length, 3)},
        )
        self.log.info("stream: data again after a %.2fs gap (%s)", length, reason)

    def _watch(self, assets: list[str], why: str) -> None:
        new = [a for a in assets if a not in set(self.tokens)]
        if not new:
            return
        self.tokens.extend(new)
        self.books.watch(new)
        if self.channel is not None:
            self.channel.subscribe(new)
        self.log.info("stream: subscribing %d asset(s): %s", len(new), why)

    def _unwatch(self, assets: list[str], why: str) -> None:
        gone = set(assets) & set(self.tokens)
        if not gone:
            return
        self.tokens = [t for t in self.tokens if t not in gone]
        if self.channel is not None:
            self.channel.unsubscribe(sorted(gone))
        self.books.drop(sorted(gone))
        self.log.info("stream: unsubscribing %d asset(s): %s", len(gone), why)

    # ---- the loops ----

    async def run(self, stop: asyncio.Event | None = None) -> StreamStats:
        stop = stop or asyncio.Event()
        s = self.settings
        self._conn = await asyncio.to_thread(self._connect_writer)
        prev = await asyncio.to_thread(last_heartbeat, self._conn)
        self._conn.commit()
        if prev:
            # The previous consumer's last data starts the gap this one closes with its first data. One killed
            # before its heartbeat carried any data left only its last beat: the gap starts there (too long,
            # never hidden).
            last_data = prev[1].get("last_data_at")
            started = datetime.fromisoformat(last_data).timestamp() if last_data else prev[0].timestamp()
            self._pending_gap = (started, "consumer restart", prev[1].get("connection_id"))
            # A restart does not reset how long the websocket has been out of reach.
            self._last_ok_at = _epoch(prev[1].get("last_ok_at"))
            self._failing_since = _epoch(prev[1].get("failing_since"))
        self.tokens = await asyncio.to_thread(self._select)
        self.log.info(
            "stream: starting session %s on %s, %d asset(s) selected (%s), warehouse %s",
            self.session,
            s.ws_url,
            len(self.tokens),
            s.selection,
            mask_url(self.database_url),
        )
        deadline = time.monotonic() + s.max_runtime_s if s.max_runtime_s > 0 else None
        stopper = asyncio.create_task(self._stop_at(stop, deadline)) if deadline else None
        done = asyncio.Event()
        flusher = asyncio.create_task(self._flush_loop(done))
        selector = asyncio.create_task(self._selection_loop(stop))
        try:
            await self._connection_loop(stop)
        finally:
            for task in (selector, stopper):
                if task is not None:
                    task.cancel()
            done.set()
            self._flush_now.set()
            await flusher
            self._conn.close()
        self.log.info("stream: session %s stopped: %s", self.session, self.stats.summary())
        return self.stats

    @staticmethod
    async def _stop_at(stop: asyncio.Event, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        stop.set()

    def _connect_writer(self) -> psycopg.Connection:
        conn = psycopg.connect(libpq_url(self.database_url))
        prepare_writer(conn, self.settings.synchronous_commit)
        return conn

    def _select(self) -> list[str]:
        with psycopg.connect(libpq_url(self.database_url)) as conn:
            return selected_tokens(conn, self.settings)

    async def _connection_loop(self, stop: asyncio.Event) -> None:
        s = self.settings
        delay = s.backoff_initial_s
        attempt = 0
        while not stop.is_set():
            attempt += 1
            self.connection_id = f"{self.session}-{attempt}"
            attempt_started = time.time()
            try:
                self.channel = await MarketChannel.open(s, list(self.tokens))
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                if self._failing_since is None:
                    self._failing_since = attempt_started
                self._failure = (
                    mask_secrets(f"{type(exc).__name__}: {exc}")[:300],
                    isinstance(exc, (OSError, TimeoutError)),
                )
                self.log.warning(
                    "stream: cannot connect to %s (%s: %s); retrying in %.2fs",
                    s.ws_url,
                    type(exc).__name__,
                    mask_secrets(str(exc)),
                    delay,
                )
                if self._pending_gap is None and self.stats.last_data_at is not None:
                    self._pending_gap = (
                        self.stats.last_data_at,
                        mask_secrets(f"connect failed: {exc}"),
                        None,
                    )
                await _sleep_unless(stop, delay * (0.8 + 0.4 * random.random()))
                delay = min(delay * 2, s.backoff_max_s)
                continue
            connected_at = time.time()
            self._last_ok_at, self._failing_since, self._failure = connected_at, None, None
            data_before = self.stats.messages
            self.stats.connects += 1
            self.books.mark_unsynced()
            self.buffer.add_health(
                self.connection_id,
                "connect",
                utc(connected_at),
                detail={"assets": len(self.tokens), "url": s.ws_url},
            )
            self.log.info(
                "stream: connected (%s), subscribed %d asset(s)", self.connection_id, len(self.tokens)
            )
            reason = "stopped"
            try:
                async for raw in self.channel.frames(stop):
                    try:
                        self.handle_frame(raw)
                    except Exception as exc:  # noqa: BLE001 - one frame must never end the stream
                        self._bad_frame(mask_secrets(f"frame handling failed ({type(exc).__name__}: {exc})"))
            except StallDetected as exc:
                reason = mask_secrets(f"stall: {exc}")
                self.stats.stalls += 1
                self.log.warning("stream: silent stall on %s (%s); reconnecting", self.connection_id, exc)
            except websockets.ConnectionClosed as exc:
                reason = mask_secrets(f"socket dropped: {exc}")
                self.log.warning("stream: socket dropped on %s (%s); reconnecting", self.connection_id, exc)
            except (OSError, websockets.WebSocketException) as exc:
                reason = mask_secrets(f"connection error: {type(exc).__name__}: {exc}")
                self.log.warning(
                    "stream: connection error on %s (%s); reconnecting", self.connection_id, reason
                )
            finally:
                await self.channel.close()
                self.channel = None
            ended = time.time()
            self._last_ok_at = ended
            self.stats.disconnects += 1
            self.buffer.add_health(
                self.connection_id,
                "disconnect",
                utc(connected_at),
                utc(ended),
                messages=self.stats.messages - data_before,
                detail={"reason": reason},
            )
            if stop.is_set():
                break
            if self._pending_gap is None:
                self._pending_gap = (self.stats.last_data_at or connected_at, reason, self.connection_id)
            if self.stats.messages > data_before:
                delay = s.backoff_initial_s
            await _sleep_unless(stop, delay * (0.8 + 0.4 * random.random()))
            delay = min(delay * 2, s.backoff_max_s)

    async def _selection_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep_unless(stop, self.settings.selection_refresh_s)
            if stop.is_set():
                return
            try:
                wanted = await asyncio.to_thread(self._select)
            except psycopg.Error as exc:
                self.log.warning("stream: selection refresh failed: %s", mask_secrets(str(exc)))
                continue
            current = set(self.tokens)
            self._unwatch(sorted(current - set(wanted)), "market closed or left the selection")
            self._watch([t for t in wanted if t not in current], "market opened or entered the selection")

    async def _flush_loop(self, done: asyncio.Event) -> None:
        spent = 0.0
        while True:
            # A fixed cadence: a slow write shortens the next wait instead of adding to it.
            try:
                await asyncio.wait_for(
                    self._flush_now.wait(), timeout=max(0.0, self.settings.flush_interval_s - spent)
                )
            except TimeoutError:
                pass
            self._flush_now.clear()
            # Read `done` once: if it is set while a routine flush is writing, the loop must come round for
            # the final one (the last rows and the closing heartbeat), not return after the routine one.
            final = done.is_set()
            t0 = time.monotonic()
            await self.flush(final=final)
            spent = time.monotonic() - t0
            if final:
                return

    async def flush(self, final: bool = False) -> None:
        now = time.time()
        s = self.settings
        if now - self.stats._window_start >= s.stats_interval_s or final:
            start, msgs, p50, p99 = self.stats.roll_window(now)
            minutes = max((now - start) / 60.0, 1e-9)
            self.buffer.add_health(
                self.session,
                "stats",
                utc(start),
                utc(now),
                messages=msgs,
                lag_p50=p50,
                lag_p99=p99,
                detail={"messages_per_minute": round(msgs / minutes, 1), **self._detail()},
            )
            self._bad_logged = 0
            self._quarantined_in_window = 0
            if not final:
                self.log.info(
                    "stream: %d msg in the last %.0fs (%.0f/min), lag p50/p99 %s/%s ms, %d gap(s) so far, "
                    "%d bad frame(s), %d asset(s), connected=%s",
                    msgs,
                    now - start,
                    msgs / minutes,
                    _ms(p50),
                    _ms(p99),
                    self.stats.gaps,
                    self.stats.bad_frames,
                    len(self.tokens),
                    self.channel is not None,
                )
        if final or now - self._last_beat >= s.heartbeat_interval_s:
            self._last_beat = now
            self.buffer.set_heartbeat(
                utc(now), utc(self.started_at), self.run_id, {**self._detail(), "final": final}
            )
        batch = self.buffer.take()
        if not batch:
            return
        assert self._conn is not None
        t0 = time.perf_counter()
        try:
            inserted = await asyncio.to_thread(write_batch, self._conn, batch)
        except psycopg.Error as exc:
            # A row's fault never gets here (write_batch isolates and quarantines it): this is the warehouse
            # itself. Nothing is dropped for it; the rows wait for the next flush, up to _MAX_HELD_ROWS.
            self.stats.flush_failures += 1
            self.stats.flush_failures_in_a_row += 1
            self.log.error(
                "stream: writing %d row(s) failed (%d time(s) in a row), kept for the next flush: %s",
                sum(map(len, batch.values())),
                self.stats.flush_failures_in_a_row,
                mask_secrets(str(exc)),
            )
            self._requeue(batch)
            if self._conn.closed or self._conn.broken:
                try:
                    self._conn = await asyncio.to_thread(self._connect_writer)
                except psycopg.Error as again:
                    self.log.error(
                        "stream: cannot reconnect to the warehouse %s: %s",
                        mask_url(self.database_url),
                        mask_secrets(str(again)),
                    )
            return
        self.stats.flush_failures_in_a_row = 0
        written = {t: n for t, n in inserted.items() if t != QUARANTINE}
        self.stats.record_flush((time.perf_counter() - t0) * 1000, sum(map(len, batch.values())))
        self.stats.rows_written += sum(written.values())
        if self.on_commit is not None:
            self.on_commit(batch, time.time())

    def _requeue(self, batch: dict[str, list[tuple]]) -> None:
        for table, rows in batch.items():
            if table == "heartbeats":
                continue
            if table == QUARANTINE:
                self.buffer.quarantine.records[:0] = rows
                continue
            self.buffer.rows[table][:0] = rows
            self.buffer.pending += len(rows)
        held = sum(len(rows) for rows in self.buffer.rows.values())
        if held > _MAX_HELD_ROWS:
            self._give_up_oldest(held - _MAX_HELD_ROWS)

    def _give_up_oldest(self, excess: int) -> None:
        """Bounded memory while the warehouse is down: drop the oldest tick rows, and say so as a gap."""
        dropped, oldest, newest = 0, None, None
        for table in TICK_TABLES:
            rows = self.buffer.rows[table]
            take = min(len(rows), excess - dropped)
            if take <= 0:
                continue
            gone, self.buffer.rows[table] = rows[:take], rows[take:]
            dropped += take
            times = [r[0] for r in gone]  # server_ts text, sortable
            oldest = min([oldest, *times]) if oldest else min(times)
            newest = max([newest, *times]) if newest else max(times)
        if not dropped:
            return
        self.buffer.pending = max(0, self.buffer.pending - dropped)
        self.stats.rows_dropped += dropped
        self.buffer.add_health(
            self.connection_id or self.session,
            "gap",
            _server_time(oldest),
            _server_time(newest),
            detail={
                "reason": "warehouse unreachable: held rows over the cap were given up",
                "rows_dropped": dropped,
                "oldest_server_ts": oldest,
                "newest_server_ts": newest,
            },
        )
        self.log.error(
            "stream: the warehouse has refused writes %d time(s) in a row; gave up the %d oldest held row(s) "
            "(server time %s .. %s) to stay under %d held rows",
            self.stats.flush_failures_in_a_row,
            dropped,
            oldest,
            newest,
            _MAX_HELD_ROWS,
        )

    def _detail(self) -> dict:
        connected = self.channel is not None
        last_ok = time.time() if connected else self._last_ok_at
        return {
            "session": self.session,
            "connection_id": self.connection_id,
            "connected": connected,
            "last_ok_at": utc(last_ok).isoformat() if last_ok else None,
            "failing_since": utc(self._failing_since).isoformat() if self._failing_since else None,
            "error": self._failure[0] if self._failure else None,
            "unreachable": self._failure[1] if self._failure else None,
            "assets": len(self.tokens),
            "books": len(self.books.books),
            "unsynced_books": len(self.books.unsynced()),
            **self.stats.summary(),
        }


def _epoch(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


def _server_time(text: str | None) -> datetime:
    """A tick row's server_ts text (`YYYY-MM-DD HH:MM:SS.fff+00`) as a datetime; now if unreadable."""
    try:
        return datetime.fromisoformat(str(text).replace("+00", "+00:00"))
    except ValueError:
        return utc(time.time())


def _event_evidence(ev: object) -> object:
    try:
        return {k: getattr(ev, k) for k in ev.__slots__}  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - evidence is best effort
        return repr(ev)[:10_000]


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}"


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        pass
