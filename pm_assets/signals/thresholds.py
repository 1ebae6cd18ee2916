"""Signal thresholds: one catalogue, three layers (environment default < database override < Launchpad).

Dagster-free on purpose: the dashboards validate a threshold edit with the same rules the signal assets use.
Each signal module registers its thresholds with `register(...)`; its `dg.Config` takes field defaults from
`default_value`. Schedules and sensors apply the database overrides as run config (`run_config_values`), and a
value typed in the Launchpad wins because it is run config too. Each signal row stores the values it ran with.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg


class ThresholdError(ValueError):
    """A threshold value that cannot be used; the message names the signal, the threshold and the rule."""


@dataclass(frozen=True)
class Threshold:
    name: str
    default: float | int | bool
    doc: str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def env_var(self) -> str:
        return f"PM_INTEL_{self.name.upper()}"

    @property
    def kind(self) -> type:
        return type(self.default)


_CATALOGUE: dict[str, dict[str, Threshold]] = {}


def register(signal_type: str, *thresholds: Threshold) -> dict[str, Threshold]:
    """Declare a signal's thresholds (idempotent, so a module may be imported twice)."""
    table = _CATALOGUE.setdefault(signal_type, {})
    for threshold in thresholds:
        table[threshold.name] = threshold
    return table


def catalogue() -> Mapping[str, Mapping[str, Threshold]]:
    return _CATALOGUE


def _coerce(signal_type: str, threshold: Threshold, raw: Any) -> float | int | bool:
    label = f"{signal_type}.{threshold.name}"
    try:
        if threshold.kind is bool:
            if isinstance(raw, bool):
                value: float | int | bool = raw
            elif str(raw).strip().lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).strip().lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError(raw)
        elif threshold.kind is int:
            as_float = float(raw)
            if as_float != int(as_float):
                raise ValueError(raw)
            value = int(as_float)
        else:
            value = float(raw)
    except (TypeError, ValueError):
        raise ThresholdError(f"{label} must be a {threshold.kind.__name__}, got {raw!r}") from None
    if threshold.kind is not bool:
        if value != value:  # NaN
            raise ThresholdError(f"{label} must be a number, got NaN")
        if threshold.minimum is not None and value < threshold.minimum:
            raise ThresholdError(f"{label} must be at least {threshold.minimum}, got {value}")
        if threshold.maximum is not None and value > threshold.maximum:
            raise ThresholdError(f"{label} must be at most {threshold.maximum}, got {value}")
    return value


def validate(signal_type: str, name: str, raw: Any) -> float | int | bool:
    """The value as the signal will use it, or ThresholdError with a message a person can act on."""
    table = _CATALOGUE.get(signal_type)
    if table is None:
        raise ThresholdError(f"unknown signal type {signal_type!r}")
    if name not in table:
        raise ThresholdError(f"{signal_type} has no threshold {name!r}; known: {', '.join(sorted(table))}")
    return _coerce(signal_type, table[name], raw)


def default_value(signal_type: str, name: str, env: Mapping[str, str] | None = None) -> float | int | bool:
    """The environment's default for a threshold (PM_INTEL_<NAME>), else the documented default."""
    threshold = _CATALOGUE[signal_type][name]
    env = os.environ if env is None else env
    raw = env.get(threshold.env_var)
    return threshold.default if raw is None or raw == "" else _coerce(signal_type, threshold, raw)


def load_overrides(conn: psycopg.Connection, signal_type: str) -> dict[str, Any]:
    """The dashboard's saved overrides for one signal, validated (a bad stored value is an error, not ignored)."""
    rows = conn.execute(
        "select name, value from threshold_overrides where signal_type = %s", (signal_type,)
    ).fetchall()
    return {name: validate(signal_type, name, value) for name, value in rows}


def run_config_values(conn: psycopg.Connection, signal_type: str) -> dict[str, Any]:
    """Config values a schedule or sensor passes to the signal's asset: defaults overlaid with overrides."""
    values = {name: default_value(signal_type, name) for name in _CATALOGUE.get(signal_type, {})}
    values.update(load_overrides(conn, signal_type))
    return values
