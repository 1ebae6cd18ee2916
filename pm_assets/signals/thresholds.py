"""Signal thresholds: one catalogue, three layers (documented default < environment < saved override).

Dagster-free on purpose: the dashboards validate a threshold edit with the same rules the signal assets use.
The catalogue is derived from the signal specs (each signal's `ThresholdSet` fields carry default, finite range
and description). Layers resolve when a run starts (`saved_values`), never at import: a bad PM_INTEL_<NAME>
refuses the run that would use it, and a bad stored override is skipped with a log line (the lower layer is
used). A value typed in the Launchpad is saved as the override (the lasting value, shown on the dashboard too)
unless the run is a what-if run. Each signal row stores the values it ran with.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from pm_assets.signals.spec import ThresholdSet, threshold_name

_log = logging.getLogger("pm_intel.thresholds")


class ThresholdError(ValueError):
    """A threshold value that cannot be used; the message names the signal, the threshold and the rule."""


@dataclass(frozen=True)
class Threshold:
    """One threshold as the editor shows it (a view of a ThresholdSet field)."""

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


def bounds(info: Any) -> tuple[float | None, float | None]:
    """(ge, le) of a pydantic field."""
    ge = le = None
    for m in info.metadata:
        ge = getattr(m, "ge", ge)
        le = getattr(m, "le", le)
    return ge, le


@functools.cache
def fields_of(thresholds: type[ThresholdSet]) -> dict[str, Threshold]:
    out = {}
    for attribute, info in thresholds.model_fields.items():
        ge, le = bounds(info)
        name = threshold_name(attribute, info)
        out[name] = Threshold(name, info.default, info.description or "", ge, le)
    return out


_EXTRA: dict[str, type[ThresholdSet]] = {}


def register(signal_type: str, thresholds: type[ThresholdSet]) -> None:
    """Add a threshold set that no spec lists (tests' examples); signals declare theirs in their SPEC."""
    _EXTRA[signal_type] = thresholds


def threshold_sets() -> dict[str, type[ThresholdSet]]:
    from pm_assets.signals.specs import TUNABLES

    return {**{t.signal_type: t.thresholds for t in TUNABLES}, **_EXTRA}


def catalogue() -> Mapping[str, Mapping[str, Threshold]]:
    return {signal_type: fields_of(cls) for signal_type, cls in threshold_sets().items()}


def _coerce(label: str, threshold: Threshold, raw: Any) -> float | int | bool:
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
            if math.isfinite(as_float) and as_float != int(as_float):
                raise ValueError(raw)
            value = int(as_float) if math.isfinite(as_float) else as_float
        else:
            value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise ThresholdError(f"{label} must be a {threshold.kind.__name__}, got {str(raw)[:40]!r}") from None
    if threshold.kind is not bool:
        if not math.isfinite(value):
            raise ThresholdError(f"{label} must be a finite number, got {raw!r}")
        if threshold.minimum is not None and value < threshold.minimum:
            raise ThresholdError(f"{label} must be at least {threshold.minimum}, got {value}")
        if threshold.maximum is not None and value > threshold.maximum:
            raise ThresholdError(f"{label} must be at most {threshold.maximum}, got {value}")
    return value


def _threshold(signal_type: str, name: str) -> Threshold:
    cls = threshold_sets().get(signal_type)
    if cls is None:
        raise ThresholdError(f"unknown signal type {signal_type!r}")
    table = fields_of(cls)
    if name not in table:
        raise ThresholdError(f"{signal_type} has no threshold {name!r}; known: {', '.join(sorted(table))}")
    return table[name]


def validate(signal_type: str, name: str, raw: Any) -> float | int | bool:
    """The value as the signal will use it, or ThresholdError with a one-line message a person can act on."""
    return _coerce(f"{signal_type}.{name}", _threshold(signal_type, name), raw)


def default_value(signal_type: str, name: str, env: Mapping[str, str] | None = None) -> float | int | bool:
    """The environment's default for a threshold (PM_INTEL_<NAME>), else the documented default.

    A bad environment value raises ThresholdError naming the variable; it is read here, when a run's values
    are resolved, never when a module is imported."""
    threshold = _threshold(signal_type, name)
    env = os.environ if env is None else env
    raw = env.get(threshold.env_var)
    if raw is None or raw == "":
        return threshold.default
    try:
        return _coerce(f"{signal_type}.{name}", threshold, raw)
    except ThresholdError as exc:
        raise ThresholdError(f"environment {threshold.env_var}: {exc}") from None


def load_overrides(conn: psycopg.Connection, signal_type: str, log: Any = None) -> dict[str, Any]:
    """The saved overrides for one signal, validated. A bad stored value (edited in SQL, or saved before a range
    tightened) is skipped with a warning naming it; the run uses the lower layer instead of failing."""
    rows = conn.execute(
        "select name, value from threshold_overrides where signal_type = %s", (signal_type,)
    ).fetchall()
    out = {}
    for name, value in rows:
        try:
            out[name] = validate(signal_type, name, value)
        except ThresholdError as exc:
            (log or _log).warning(f"saved threshold override refused, using the default instead: {exc}")
    return out


def saved_values(
    conn: psycopg.Connection, signal_type: str, *, env: Mapping[str, str] | None = None, log: Any = None
) -> dict[str, Any]:
    """Every threshold of a signal as the next run uses it: documented default < environment < saved override."""
    values = {name: default_value(signal_type, name, env) for name in catalogue()[signal_type]}
    values.update(load_overrides(conn, signal_type, log))
    return values


def save_overrides(
    conn: psycopg.Connection, signal_type: str, values: Mapping[str, Any], updated_by: str
) -> None:
    """Store validated values as the lasting overrides (the table the dashboard's editor writes)."""
    for name, raw in values.items():
        value = validate(signal_type, name, raw)
        conn.execute(
            """insert into threshold_overrides (signal_type, name, value, updated_at, updated_by)
               values (%s, %s, %s::jsonb, now(), %s)
               on conflict (signal_type, name) do update
                  set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by""",
            (signal_type, name, json.dumps(value, allow_nan=False), updated_by),
        )
