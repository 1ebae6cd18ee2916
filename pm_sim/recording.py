"""The recording format (pm_sim/RECORDING.md is the contract): one folder, one JSON-lines file per source.

Each line is one upstream object exactly as the API returned it, wrapped with the time it was received:
    {"received_at": 1790585112.649, "request": {"method": "GET", "path": "/v2/trades", "params": {...}},
     "object": {...}}
websocket lines carry the raw text frame instead of an object: {"received_at": ..., "connection": 1,
"frame": "<text>"}. `manifest.json` says what was recorded (selection, span, sessions, versions).

Plain library code with no network: the recorder (pm_assets/recording) writes through RecordingWriter, the replay
server (pm_sim/replay) and `pm-intel replay` read through Recording.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

log = logging.getLogger(__name__)

FORMAT = "pm-intel-recording"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# source name -> what each line's object is (the file is <source>.jsonl)
SOURCES: dict[str, str] = {
    "gamma_markets": "a Gamma market object (/markets/keyset, /markets/slug/{slug}, an event's markets)",
    "gamma_events": "a Gamma event object (/events/keyset, /events/slug/{slug}, /events/{id})",
    "data_trades": "one Data API v2 trade row (/v2/trades, taker_only=true)",
    "clob_books": "one CLOB order book summary (POST /books, GET /book)",
    "clob_prices_history": "one CLOB /prices-history response ({'history': [...]}) for one token and window",
    "data_resolutions": "one Data API v2 resolution row (/v2/resolutions)",
    "data_activity": "one Data API v2 activity row (/v2/activity?user=)",
    "ws_market": "one raw text frame of the CLOB websocket market channel (field 'frame')",
}
WS_SOURCE = "ws_market"


def source_path(folder: Path, source: str) -> Path:
    if source not in SOURCES:
        raise ValueError(f"unknown recording source {source!r}; known: {', '.join(SOURCES)}")
    return folder / f"{source}.jsonl"


def normalize_condition_id(cid: str) -> str:
    """The 66-character form every API but Gamma uses (a Protocol V2 Gamma id is 62 hex: pad with 00)."""
    c = cid.strip().lower()
    return c + "00" if len(c) == 64 else c


# ---------------------------------------------------------------------------------------------- writing


def _repair_tail(path: Path) -> int:
    """Cut a partial last line (a recorder killed mid-write) so appends start on a line boundary; bytes cut."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return 0
        size = fh.seek(0, os.SEEK_END)
        pos = size
        chunk = 65536
        while pos > 0:
            step = min(chunk, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step)
            nl = buf.rfind(b"\n")
            if nl >= 0:
                keep = pos + nl + 1
                break
        else:
            keep = 0
        fh.truncate(keep)
        return size - keep


class RecordingWriter:
    """Appends lines to a recording folder; safe to reopen on a folder a killed recorder left behind."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[bytes]] = {}
        self.written: dict[str, int] = {}

    def _file(self, source: str) -> IO[bytes]:
        fh = self._files.get(source)
        if fh is None:
            path = source_path(self.folder, source)
            cut = _repair_tail(path)
            if cut:
                log.warning(
                    "%s: cut a partial last line (%d bytes) left by an interrupted recorder", path, cut
                )
            fh = open(path, "ab")  # noqa: SIM115 - kept open across appends, closed in close()
            self._files[source] = fh
        return fh

    def append(self, source: str, received_at: float, request: dict[str, Any] | None, obj: Any) -> None:
        line: dict[str, Any] = {"received_at": round(received_at, 3)}
        if request is not None:
            line["request"] = request
        line["object"] = obj
        self._file(source).write(orjson.dumps(line) + b"\n")
        self.written[source] = self.written.get(source, 0) + 1

    def append_frame(self, received_at: float, frame: str | bytes, connection: int | None = None) -> None:
        text = frame.decode() if isinstance(frame, bytes) else frame
        line: dict[str, Any] = {"received_at": round(received_at, 3)}
        if connection is not None:
            line["connection"] = connection
        line["frame"] = text
        self._file(WS_SOURCE).write(orjson.dumps(line) + b"\n")
        self.written[WS_SOURCE] = self.written.get(WS_SOURCE, 0) + 1

    def flush(self) -> None:
        for fh in self._files.values():
            fh.flush()

    def close(self) -> None:
        for fh in self._files.values():
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        self._files.clear()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_manifest(folder: str | Path, manifest: dict[str, Any]) -> None:
    """Atomically (write then rename), so a reader never sees half a manifest."""
    path = Path(folder) / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------- reading


class RecordingError(ValueError):
    """A folder that is not a readable recording; the message says why."""


@dataclass
class Line:
    source: str
    received_at: float
    request: dict[str, Any] | None
    object: Any = None
    frame: str | None = None
    connection: int | None = None


class Recording:
    """A recording folder opened for reading. Lines that do not parse are skipped and counted, never fatal."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise RecordingError(f"{self.folder} is not a folder")
        path = self.folder / MANIFEST
        self.manifest: dict[str, Any] = {}
        if path.exists():
            try:
                self.manifest = orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError as exc:
                raise RecordingError(f"{path} is not valid JSON ({exc})") from None
            if self.manifest.get("format") not in (None, FORMAT):
                raise RecordingError(f"{path}: format {self.manifest.get('format')!r} is not {FORMAT!r}")
            version = self.manifest.get("format_version", FORMAT_VERSION)
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise RecordingError(
                    f"{path}: format_version {version!r} is newer than this reader's {FORMAT_VERSION}"
                )
        if not self.present() and not path.exists():
            raise RecordingError(f"{self.folder} holds no recording (no manifest.json and no <source>.jsonl)")
        self.bad_lines: dict[str, int] = {}

    def present(self) -> list[str]:
        """Sources with a non-empty file, in contract order."""
        out = []
        for source in SOURCES:
            path = source_path(self.folder, source)
            if path.exists() and path.stat().st_size > 0:
                out.append(source)
        return out

    def missing(self) -> list[str]:
        have = set(self.present())
        return [s for s in SOURCES if s not in have]

    def lines(self, source: str) -> Iterator[Line]:
        path = source_path(self.folder, source)
        if not path.exists():
            return
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    d = orjson.loads(raw)
                    received = float(d["received_at"])
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    self.bad_lines[source] = self.bad_lines.get(source, 0) + 1
                    log.warning("%s line %d is not a recording line; skipped", path.name, n)
                    continue
                yield Line(
                    source,
                    received,
                    d.get("request"),
                    d.get("object"),
                    d.get("frame"),
                    d.get("connection"),
                )

    def objects(self, source: str) -> Iterator[tuple[float, Any]]:
        for line in self.lines(source):
            yield line.received_at, line.object

    def span(self) -> tuple[float, float] | None:
        """(first, last) time the recording observed: the manifest's span, else its lines' received_at."""
        span = self.manifest.get("span") or {}
        if span.get("start") is not None and span.get("end") is not None:
            return float(span["start"]), float(span["end"])
        lo = hi = None
        for source in self.present():
            for line in self.lines(source):
                lo = line.received_at if lo is None else min(lo, line.received_at)
                hi = line.received_at if hi is None else max(hi, line.received_at)
        return None if lo is None or hi is None else (lo, hi)


def frame_events(frame: str) -> list[dict[str, Any]]:
    """The event objects of one websocket frame (an object, or the array of the initial dump)."""
    try:
        parsed = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return []
    items = parsed if isinstance(parsed, list) else [parsed]
    return [x for x in items if isinstance(x, dict)]


def event_assets(ev: dict[str, Any]) -> set[str]:
    """Asset ids one websocket event is about."""
    out = set()
    if ev.get("asset_id"):
        out.add(str(ev["asset_id"]))
    for change in ev.get("price_changes") or ev.get("changes") or []:
        if isinstance(change, dict) and change.get("asset_id"):
            out.add(str(change["asset_id"]))
    for a in ev.get("assets_ids") or []:
        out.add(str(a))
    return out


def observed_market_days(rec: Recording) -> set[tuple[str, str]]:
    """Distinct (66-character condition id, UTC day) pairs the recording observed: the day of every recorded
    trade (its timestamp), websocket event (its own timestamp) and REST book (its own timestamp, else the time
    it was received)."""
    days: set[tuple[str, str]] = set()

    def add(cid: Any, t: float) -> None:
        if isinstance(cid, str) and cid.startswith("0x"):
            days.add((normalize_condition_id(cid), datetime.fromtimestamp(t, UTC).date().isoformat()))

    for _, row in rec.objects("data_trades"):
        if isinstance(row, dict) and row.get("timestamp") is not None:
            add(row.get("condition_id"), float(row["timestamp"]))
    for received, book in rec.objects("clob_books"):
        if isinstance(book, dict):
            add(book.get("market"), _ms_or(book.get("timestamp"), received))
    for line in rec.lines(WS_SOURCE):
        for ev in frame_events(line.frame or ""):
            add(ev.get("market"), _ms_or(ev.get("timestamp"), line.received_at))
    return days


def _ms_or(ms: Any, fallback: float) -> float:
    try:
        return int(ms) / 1000.0
    except (TypeError, ValueError):
        return fallback


def count_lines(folder: Path) -> dict[str, int]:
    """Lines per source file, counted on disk (the manifest's figures, true even after a killed session)."""
    out = {}
    for source in SOURCES:
        path = source_path(folder, source)
        if path.exists():
            n = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    n += chunk.count(b"\n")
            out[source] = n
    return out
