"""`pm-intel record DIR`: capture the live APIs for a set of markets into the recording format (pm_sim/RECORDING.md).

One asyncio loop. The websocket market channel is captured frame by frame for the whole session (reconnecting
by itself); every `interval` a round polls trades (per-market walks back to what is recorded) and REST books;
every `gamma_interval`, and once at the end, Gamma markets and events, resolutions and price history; a
wallet's activity is walked once, when it first makes a fill worth an age lookup. Every request goes through
the shared HTTP core (pm_assets/resources/http.py), so it is paced under the published limits, retried and
backed off like the pipeline's own clients. Re-running on the same folder continues it (state.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pm_assets.recording.selection import Selection, Tracked, resolve
from pm_assets.recording.state import RecordedState
from pm_assets.recording.websocket import capture_frames
from pm_assets.resources.clob import DEFAULT_CLOB_URL
from pm_assets.resources.data_api import DEFAULT_DATA_URL
from pm_assets.resources.gamma import DEFAULT_GAMMA_URL
from pm_assets.resources.http import (
    CLOB_GENERAL,
    CLOB_LIMITS,
    DATA_GENERAL,
    DATA_LIMITS,
    GAMMA_GENERAL,
    GAMMA_LIMITS,
    ApiError,
    PolymarketHttp,
)
from pm_sensors.stream.settings import DEFAULT_WS_URL
from pm_sim.recording import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    Recording,
    RecordingWriter,
    count_lines,
    write_manifest,
)

log = logging.getLogger("pm_intel.record")

ACTIVITY_MAX_PAGES = 40  # as the wallets asset's first-activity walk
HISTORY_SPAN_CAP_S = 14 * 86400
WS_FIRST_FRAME_WAIT_S = 10.0


class RecordError(RuntimeError):
    """A recording that cannot start or continue; the message says why and what to do."""


@dataclass
class Upstream:
    gamma_url: str
    clob_url: str
    data_url: str
    ws_url: str

    @classmethod
    def from_env(cls) -> Upstream:
        env = os.environ
        return cls(
            env.get("POLYMARKET_GAMMA_URL") or DEFAULT_GAMMA_URL,
            env.get("POLYMARKET_CLOB_URL") or DEFAULT_CLOB_URL,
            env.get("POLYMARKET_DATA_URL") or DEFAULT_DATA_URL,
            env.get("POLYMARKET_WS_URL") or DEFAULT_WS_URL,
        )


@dataclass
class RecordOptions:
    selection: Selection | None  # None: the recording's own (resume)
    duration_s: float | None  # None: fresh 30 min; resume: until the planned end
    history_s: float = 2 * 3600
    interval_s: float = 60.0
    gamma_interval_s: float = 900.0
    activity_min_usdc: float = 500.0  # as the wallets asset's first_activity_min_trade_usdc
    websocket: bool = True


@dataclass
class Progress:
    """What a session has written so far, for the progress display."""

    started: float
    planned_end: float
    now: float = 0.0
    rounds: int = 0
    lines: dict[str, int] = field(default_factory=dict)
    errors: int = 0


def package_version() -> str:
    try:
        return version("pm-intel")
    except PackageNotFoundError:
        return "unknown"


class Recorder:
    def __init__(self, folder: str | Path, options: RecordOptions, upstream: Upstream | None = None):
        self.folder = Path(folder)
        self.opt = options
        self.up = upstream or Upstream.from_env()
        self.offset = 0.0  # upstream clock minus ours (CLOB /time), so received_at is on the upstream's clock
        self.writer: RecordingWriter | None = None
        self.markets: list[Tracked] = []
        self.manifest: dict[str, Any] = {}
        self.state = RecordedState()
        self.planned_end = 0.0
        self.upstream_time = 0  # the upstream's /time at the last round's start
        self.ws_ready = asyncio.Event()

    def now(self) -> float:
        return time.time() + self.offset

    # ------------------------------------------------------------------------------------------ session
    async def run(self, on_progress: Callable[[Progress, bool], None] | None = None) -> Progress:
        existing = Recording(self.folder) if (self.folder / MANIFEST).exists() else None
        self.manifest = dict(existing.manifest) if existing else {}
        self.state = RecordedState.load(existing)
        async with (
            PolymarketHttp(self.up.gamma_url, GAMMA_LIMITS, GAMMA_GENERAL) as gamma,
            PolymarketHttp(self.up.clob_url, CLOB_LIMITS, CLOB_GENERAL) as clob,
            PolymarketHttp(self.up.data_url, DATA_LIMITS, DATA_GENERAL) as data,
        ):
            self.gamma, self.clob, self.data = gamma, clob, data
            await self._sync_clock()
            started = self.now()
            self.planned_end = planned_end = self._plan(started)
            with RecordingWriter(self.folder) as writer:
                self.writer = writer
                await self._select(started)
                progress = Progress(started, planned_end)
                session = {"started_at": round(started, 3), "ended_at": None, "rounds": 0}
                self.manifest.setdefault("sessions", []).append(session)
                self._save_manifest(started, started)
                stop = asyncio.Event()
                self.ws_ready = asyncio.Event()
                ws_task = (
                    asyncio.create_task(
                        capture_frames(self.up.ws_url, self.tokens(), writer, self.now, stop, self.ws_ready)
                    )
                    if self.opt.websocket
                    else None
                )
                ticker = asyncio.create_task(self._tick(progress, on_progress, stop)) if on_progress else None
                try:
                    await self._rounds(progress, on_progress)
                finally:
                    if ws_task is not None:
                        # Even a one-round session (--duration 0) keeps the books the socket sends on subscribe.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self.ws_ready.wait(), WS_FIRST_FRAME_WAIT_S)
                    stop.set()
                    for task in (ws_task, ticker):
                        if task is not None:
                            await task
                    ended = self.now()
                    session.update(
                        ended_at=round(ended, 3), rounds=progress.rounds, lines=dict(writer.written)
                    )
                    progress.lines = dict(writer.written)
                    writer.flush()
                    self._save_manifest(started, ended)
        return progress

    def _plan(self, started: float) -> float:
        """When this session stops: a fresh recording runs --duration (30 min by default); a resumed one runs
        to the end it planned, unless --duration sets a new one from now."""
        if self.opt.duration_s is not None:
            return started + self.opt.duration_s
        planned = self.manifest.get("planned_end")
        return float(planned) if planned else started + 1800.0

    async def _sync_clock(self) -> None:
        """Read the upstream's clock (CLOB /time); follow it when it is more than 5 s from ours."""
        status, data, _ = await self.clob.request_json("GET", "/time")
        if status == 200 and isinstance(data, int | float):
            self.upstream_time = int(data)
            offset = float(data) - time.time()
            if abs(offset) > 5:
                if abs(offset - self.offset) > 5:
                    log.info("record: the upstream clock is %.0f s from ours; received_at follows it", offset)
                self.offset = offset
        else:
            self.upstream_time = int(self.now())

    async def _select(self, started: float) -> None:
        chosen_before = self.manifest.get("selection")
        if chosen_before is not None:
            if self.opt.selection is not None and self.opt.selection.as_dict() != chosen_before:
                raise RecordError(
                    f"{self.folder} already records {chosen_before}; run without selection flags to continue "
                    "it, or record into a new folder"
                )
            self.markets = [Tracked(**m) for m in self.manifest.get("markets", [])]
            return
        if self.opt.selection is None:
            raise RecordError(
                f"{self.folder} holds no recording yet: choose markets with --slug, --event, --tag or --top"
            )
        objs, events = await resolve(self.gamma, self.opt.selection)
        self.markets = []
        for obj in objs:
            try:
                self.markets.append(Tracked.from_gamma(obj))
            except ValueError as exc:  # pydantic's ValidationError is one: a market we cannot follow
                log.warning("record: skipping Gamma market %s: %s", obj.get("id"), str(exc).splitlines()[0])
        if not self.markets:
            raise RecordError("no market of the selection has usable identifiers in Gamma's answer")
        self.manifest.update(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            created_at=round(started, 3),
            selection=self.opt.selection.as_dict(),
            markets=[m.as_dict() for m in self.markets],
            history_from=int(started - self.opt.history_s),
            options={
                "interval_s": self.opt.interval_s,
                "gamma_interval_s": self.opt.gamma_interval_s,
                "history_s": self.opt.history_s,
                "activity_min_usdc": self.opt.activity_min_usdc,
                "websocket": self.opt.websocket,
            },
            upstream=vars(self.up),
        )
        for obj in objs:
            self._gamma_line("gamma_markets", obj, {"method": "GET", "path": "/markets (selection)"})
        for ev in events:
            self._gamma_line("gamma_events", ev, {"method": "GET", "path": "/events (selection)"})
        log.info("record: following %d market(s), %d token(s)", len(self.markets), len(self.tokens()))

    def _save_manifest(self, started: float, ended: float) -> None:
        span = self.manifest.get("span") or {"start": round(started, 3)}
        span["end"] = round(max(ended, float(span.get("end") or 0)), 3)
        self.manifest.update(
            span=span,
            lines=count_lines(self.folder),
            planned_end=round(self.planned_end, 3),
            clock_offset_s=round(self.offset, 3),
            versions={"pm_intel": package_version(), "python": platform.python_version()},
            updated_at=round(ended, 3),
        )
        write_manifest(self.folder, self.manifest)

    def tokens(self) -> list[str]:
        return [t for m in self.markets for t in m.tokens]

    # ------------------------------------------------------------------------------------------ rounds
    async def _rounds(self, progress: Progress, on_progress: Callable[[Progress, bool], None] | None) -> None:
        last_gamma = float("-inf")
        while True:
            t0 = self.now()
            final = t0 >= progress.planned_end
            slow = final or t0 - last_gamma >= self.opt.gamma_interval_s
            progress.errors += await self._round(slow)
            if slow:
                last_gamma = t0
            progress.rounds += 1
            progress.lines = dict(self.writer.written) if self.writer else {}
            if self.writer:
                self.writer.flush()
            if on_progress:
                progress.now = self.now()
                on_progress(progress, True)
            if final:
                return
            await asyncio.sleep(max(0.0, min(self.opt.interval_s, progress.planned_end - self.now())))

    async def _tick(
        self, progress: Progress, on_progress: Callable[[Progress, bool], None], stop: asyncio.Event
    ) -> None:
        """Refresh the display every second between rounds (websocket frames arrive all the time)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            progress.lines = dict(self.writer.written) if self.writer else {}
            progress.now = self.now()
            on_progress(progress, False)

    async def _round(self, slow: bool) -> int:
        """One polling round; returns the number of steps that failed (logged, retried next round)."""
        steps = [self._sync_clock, self._trades, self._books]
        if slow:
            steps += [self._gamma, self._resolutions, self._prices]
        errors = 0
        for step in steps:
            try:
                await step()
            except ApiError as exc:
                errors += 1
                log.warning("record: %s failed this round (%s); it is retried next round", step.__name__, exc)
        return errors

    def _gamma_line(self, source: str, obj: dict[str, Any], request: dict[str, Any]) -> None:
        table = self.state.gamma_markets if source == "gamma_markets" else self.state.gamma_events
        if self.writer and self.state.changed(table, str(obj.get("id")), obj):
            self.writer.append(source, self.now(), request, obj)

    async def _gamma(self) -> None:
        ids = [m.gamma_condition_id for m in self.markets]
        for i in range(0, len(ids), 50):
            chunk = ",".join(ids[i : i + 50])
            for closed in ("false", "true"):
                for generation in ("v1", "v2"):
                    params = {"condition_ids": chunk, "closed": closed, "version": generation, "limit": 100}
                    status, data, raw = await self.gamma.request_json("GET", "/markets/keyset", params=params)
                    if status >= 400:
                        raise ApiError("GET /markets/keyset", f"HTTP {status}: {raw[:200]}", status=status)
                    request = {"method": "GET", "path": "/markets/keyset", "params": params}
                    for obj in (data or {}).get("markets") or []:
                        if isinstance(obj, dict):
                            self._gamma_line("gamma_markets", obj, request)
        for event_id in sorted({m.event_id for m in self.markets if m.event_id}):
            status, data, raw = await self.gamma.request_json("GET", f"/events/{event_id}")
            if status == 200 and isinstance(data, dict):
                self._gamma_line("gamma_events", data, {"method": "GET", "path": f"/events/{event_id}"})

    async def _trades(self) -> None:
        floor = int(self.manifest.get("history_from") or self.now() - self.opt.history_s)
        cids = [m.condition_id for m in self.markets]
        wallets: set[str] = set()
        for i in range(0, len(cids), 20):
            batch = cids[i : i + 20]
            stop_below = min(self.state.trades.floor(c, floor) for c in batch)
            params = {"condition": ",".join(batch), "limit": 1000, "taker_only": "true"}
            per_market: dict[str, list[dict[str, Any]]] = {c: [] for c in batch}
            cursor, page = None, 0
            while True:
                query = params if cursor is None else {**params, "cursor": cursor}
                status, data, raw = await self.data.request_json("GET", "/v2/trades", params=query)
                if status >= 400:
                    raise ApiError("GET /v2/trades", f"HTTP {status}: {raw[:200]}", status=status)
                rows = [r for r in (data or {}).get("data") or [] if isinstance(r, dict)]
                for r in rows:
                    per_market.setdefault(str(r.get("condition_id", "")).lower(), []).append(r)
                page += 1
                cursor = ((data or {}).get("pagination") or {}).get("next_cursor")
                if not rows or cursor is None or int(rows[-1].get("timestamp") or 0) < stop_below:
                    break
            received = self.now()
            request = {"method": "GET", "path": "/v2/trades", "params": params, "pages": page}
            for cid, rows in per_market.items():
                for row in self.state.trades.accept(cid, rows, floor):
                    assert self.writer is not None
                    self.writer.append("data_trades", received, request, row)
                    usdc = float(row.get("price") or 0) * float(row.get("size") or 0)
                    if usdc >= self.opt.activity_min_usdc and row.get("proxy_wallet"):
                        wallets.add(str(row["proxy_wallet"]).lower())
        await self._activity(sorted(wallets - self.state.activity_walked))

    async def _activity(self, wallets: list[str]) -> None:
        for wallet in wallets:
            cursor = None
            for _ in range(ACTIVITY_MAX_PAGES):
                params: dict[str, Any] = {"user": wallet, "limit": 500}
                status, data, raw = await self.data.request_json(
                    "GET", "/v2/activity", params=params if cursor is None else {**params, "cursor": cursor}
                )
                if status >= 400:
                    raise ApiError("GET /v2/activity", f"HTTP {status}: {raw[:200]}", status=status)
                rows = [r for r in (data or {}).get("data") or [] if isinstance(r, dict)]
                received = self.now()
                for r in rows:
                    assert self.writer is not None
                    self.writer.append(
                        "data_activity",
                        received,
                        {"method": "GET", "path": "/v2/activity", "params": params},
                        r,
                    )
                cursor = ((data or {}).get("pagination") or {}).get("next_cursor")
                if cursor is None or not rows:
                    break
            self.state.activity_walked.add(wallet)

    async def _books(self) -> None:
        await self._books_batch(self.tokens())

    async def _books_batch(self, tokens: list[str]) -> None:
        for i in range(0, len(tokens), 500):
            batch = tokens[i : i + 500]
            status, data, raw = await self.clob.request_json(
                "POST", "/books", body=[{"token_id": t} for t in batch]
            )
            if status == 404 and len(batch) > 1:  # a token without a book: split until it is isolated
                half = len(batch) // 2
                await self._books_batch(batch[:half])
                await self._books_batch(batch[half:])
                continue
            if status == 404:
                continue
            if status >= 400:
                raise ApiError("POST /books", f"HTTP {status}: {raw[:200]}", status=status)
            received = self.now()
            for book in data or []:
                if isinstance(book, dict) and self.writer:
                    self.writer.append("clob_books", received, {"method": "POST", "path": "/books"}, book)

    async def _resolutions(self) -> None:
        cids = [m.condition_id for m in self.markets]
        for i in range(0, len(cids), 20):
            params = {"condition": ",".join(cids[i : i + 20])}
            status, data, raw = await self.data.request_json("GET", "/v2/resolutions", params=params)
            if status >= 400:
                raise ApiError("GET /v2/resolutions", f"HTTP {status}: {raw[:200]}", status=status)
            received = self.now()
            for row in (data or {}).get("data") or []:
                key = str(row.get("condition_id", "")).lower() if isinstance(row, dict) else ""
                if key and self.writer and self.state.changed(self.state.resolutions, key, row):
                    request = {"method": "GET", "path": "/v2/resolutions", "params": params}
                    self.writer.append("data_resolutions", received, request, row)

    async def _prices(self) -> None:
        floor = int(self.manifest.get("history_from") or self.now() - self.opt.history_s)
        end = self.upstream_time  # the upstream's own now: a window never reaches past what it has
        for token in self.tokens():
            start = self.state.prices_covered.get(token, floor)
            while start < end:
                stop = min(end, start + HISTORY_SPAN_CAP_S)
                params = {"market": token, "startTs": start, "endTs": stop, "fidelity": 1}
                status, data, raw = await self.clob.request_json("GET", "/prices-history", params=params)
                if status == 404:
                    break
                if status >= 400:
                    raise ApiError("GET /prices-history", f"HTTP {status}: {raw[:200]}", status=status)
                if self.writer and isinstance(data, dict):
                    request = {"method": "GET", "path": "/prices-history", "params": params}
                    self.writer.append("clob_prices_history", self.now(), request, data)
                self.state.prices_covered[token] = stop
                start = stop
