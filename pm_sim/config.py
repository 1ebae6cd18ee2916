"""Simulator options (CLI flags map 1:1 onto these fields)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .clock import DEFAULT_START


@dataclass
class SimConfig:
    seed: int = 1
    markets: int = 200
    trades_per_second: float = 12.0  # ~1M trades/day
    ws_rate: float = 200.0  # book-update (price_change) messages per second across the world
    speed: float = 1.0
    start: float = DEFAULT_START
    history_hours: float = 6.0  # trades exist from start - history_hours
    # Planted events and resolutions spread over [start - history, start + horizon].
    horizon_hours: float = 24.0
    v2_fraction: float = 0.33
    era: str = "late2026"  # or "legacy"
    data_v1: bool = True
    gamma_version_default: str = "v1"  # "v1" (omitted version => v1 only) or "both"
    faults: str = ""
    ws_idle_timeout: float = 10.0
    rate_limits: bool = True
    ground_truth_path: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def legacy(self) -> bool:
        return self.era == "legacy"
