"""Stream consumer settings: one plain dataclass, filled from PM_INTEL_STREAM_* (or the Dagster op config)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

DEFAULT_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
SELECTION_MODES = ("active", "top", "list")


@dataclass(frozen=True)
class StreamSettings:
    ws_url: str = DEFAULT_WS_URL
    # active: every open market's tokens; top: the top_n markets by 24h volume; list: `tokens`
    selection: str = "active"
    top_n: int = 100
    tokens: tuple[str, ...] = ()  # the token / position ids for selection "list"
    subscribe_batch: int = 500  # asset ids per subscribe message
    flush_interval_s: float = 0.05  # the wait before a row is written: half of it on average
    flush_rows: int = 20_000  # flush early when this many rows wait
    stall_timeout_s: float = 30.0  # no data for this long on an open socket = a silent stall
    pong_timeout_s: float = 30.0
    # Polymarket asks for a PING every 10 s and drops a socket after ~10 s without one (polymarket-api.md §4.2):
    # pinging at exactly the limit races it (a late loop turn gets a healthy socket cut), so ping at half.
    ping_interval_s: float = 5.0
    selection_refresh_s: float = 60.0  # re-read markets/tokens: subscribe new, unsubscribe closed
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 30.0
    stats_interval_s: float = 60.0  # one 'stats' row in stream_health per interval (messages per minute, lag)
    heartbeat_interval_s: float = 2.0
    # The largest websocket frame accepted; a larger one closes the connection (1009) and the consumer
    # reconnects. The initial dump of one 500-id subscribe batch is one frame of a few MB.
    max_frame_bytes: int = 32 * 1024 * 1024
    # The tick writer's commits: "off" returns before the WAL flush (a database crash may lose the last few
    # hundred ms of ticks; see persistence.prepare_writer); "on" waits for it.
    synchronous_commit: str = "off"
    max_runtime_s: float = 0.0  # 0 = until told to stop

    def __post_init__(self) -> None:
        if self.selection not in SELECTION_MODES:
            raise ValueError(f"selection must be one of {SELECTION_MODES}, got {self.selection!r}")
        if self.synchronous_commit not in ("on", "off", "local", "remote_write", "remote_apply"):
            raise ValueError(
                f"synchronous_commit must be on/off/local/remote_write/remote_apply, "
                f"got {self.synchronous_commit!r}"
            )
        if self.subscribe_batch < 1 or self.ping_interval_s <= 0 or self.stall_timeout_s <= 0:
            raise ValueError("subscribe_batch, ping_interval_s and stall_timeout_s must be positive")
        if self.max_frame_bytes < 1024:
            raise ValueError(f"max_frame_bytes must be at least 1024, got {self.max_frame_bytes}")

    def with_overrides(self, **changes: object) -> StreamSettings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _parse(name: str, kind: type, raw: str) -> object:
    if kind is tuple:
        return tuple(t.strip() for t in raw.split(",") if t.strip())
    if kind in (int, float):
        return kind(raw)
    if kind is bool:
        if raw.strip().lower() not in ("1", "true", "on", "yes", "0", "false", "off", "no"):
            raise ValueError(raw)
        return raw.strip().lower() in ("1", "true", "on", "yes")
    return raw


def settings_from_env(env: Mapping[str, str] | None = None) -> StreamSettings:
    """POLYMARKET_WS_URL plus PM_INTEL_STREAM_<FIELD> (e.g. PM_INTEL_STREAM_TOP_N=50, PM_INTEL_STREAM_TOKENS=1,2)."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    if env.get("POLYMARKET_WS_URL"):
        values["ws_url"] = env["POLYMARKET_WS_URL"]
    types = {
        "tokens": tuple,
        "top_n": int,
        "subscribe_batch": int,
        "flush_rows": int,
        "max_frame_bytes": int,
    }
    for f in fields(StreamSettings):
        raw = env.get(f"PM_INTEL_STREAM_{f.name.upper()}")
        if raw is None or f.name == "ws_url":
            continue
        kind = types.get(f.name, float if f.name.endswith("_s") else str)
        try:
            values[f.name] = _parse(f.name, kind, raw)
        except ValueError:
            raise ValueError(
                f"PM_INTEL_STREAM_{f.name.upper()}={raw!r} is not a valid {kind.__name__}"
            ) from None
    return StreamSettings(**values)  # type: ignore[arg-type]
