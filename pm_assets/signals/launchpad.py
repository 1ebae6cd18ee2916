"""A signal asset's Launchpad config, derived from its spec, and how a run resolves its thresholds.

Every threshold field is optional: empty means the saved value (dashboard override, else PM_INTEL_<NAME>, else
the documented default), resolved when the run starts. A value set in the Launchpad is the lasting value: the
run saves it to the override store the dashboard edits (shown in both places) and every later run, sensor or
schedule uses it. With `what_if: true` nothing lasting changes: the run evaluates under the given values and
writes its rows to `signal_what_if` beside the live table, which it leaves alone (rows, watermark, overrides).

Each field shows its meaning, default and range in the Launchpad; a value out of range fails the run with one
line naming the threshold and its range.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Optional

import dagster as dg
import psycopg
import pydantic
from psycopg.types.json import Jsonb
from pydantic import Field, create_model

from pm_assets.signals import thresholds
from pm_assets.signals.spec import Tunable, threshold_name

WHAT_IF_DOC = (
    "true: a what-if run. Evaluates under the values given here and writes to signal_what_if (marked with a "
    "what_if_id), leaving the live table, its watermark and the saved thresholds untouched. false: values given "
    "here are saved as the lasting thresholds (the dashboard shows them) and the live table is evaluated."
)
RESCAN_DOCS = {
    "rescan_from": "ISO date(time): re-evaluate trades made from here (backfill); the watermark is untouched",
    "rescan_to": "ISO date(time): end of the rescan (default now)",
}


class SignalConfig(dg.Config):
    """Refuses a value out of its range with one line (pydantic's own error is a multi-line stack trace)."""

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            signal_type = _SIGNAL_TYPES.get(type(self), type(self).__name__)
            raise dg.Failure(description=f"invalid threshold: {one_line(signal_type, exc)}") from None


_SIGNAL_TYPES: dict[type, str] = {}  # config class -> its signal type, for the refusal's wording


def one_line(signal_type: str, exc: pydantic.ValidationError) -> str:
    """Every refused field on one line, worded as the dashboard's editor words it
    ('fresh_wallet.fresh_min_usdc must be at least 0.0, got -5.0')."""
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"])
        try:
            thresholds.validate(signal_type, name, err.get("input"))
        except thresholds.ThresholdError as refused:
            parts.append(str(refused))
        else:
            parts.append(f"{signal_type}.{name}: {err['msg'].lower()}, got {str(err.get('input'))[:40]!r}")
    return "; ".join(parts)


def _doc(info: Any, ge: float | None, le: float | None) -> str:
    words = f"{(info.description or '').rstrip('.')}. Default {info.default}"
    if ge is not None or le is not None:
        words += f", range {'' if ge is None else f'{ge:g}'} … {'' if le is None else f'{le:g}'}"
    return words + ". Empty: the saved value."


def launchpad_config(tunable: Tunable, *, rescan: tuple[str, ...] = ()) -> type[dg.Config]:
    """The asset's dg.Config: one optional field per threshold (description and range from the spec)."""
    fields: dict[str, Any] = {}
    for attribute, info in tunable.thresholds.model_fields.items():
        ge, le = thresholds.bounds(info)
        fields[threshold_name(attribute, info)] = (
            Optional[info.annotation],  # noqa: UP045 - pydantic's create_model takes the typing form
            Field(None, ge=ge, le=le, description=_doc(info, ge, le)),
        )
    fields["what_if"] = (bool, Field(False, description=WHAT_IF_DOC))
    for name in rescan:  # "rescan_from", "rescan_to": the asset's backfill window
        fields[name] = (str, Field("", description=RESCAN_DOCS[name]))
    name = "".join(p.capitalize() for p in tunable.signal_type.split("_")) + "Config"
    config = create_model(
        name, __base__=SignalConfig, __doc__=f"Thresholds of {tunable.signal_type}", **fields
    )
    _SIGNAL_TYPES[config] = tunable.signal_type
    return config


def given_values(tunable: Tunable, config: Any) -> dict[str, Any]:
    """The thresholds set in the Launchpad (or by a caller), by threshold name."""
    names = thresholds.fields_of(tunable.thresholds)
    return {n: getattr(config, n) for n in names if getattr(config, n, None) is not None}


def is_what_if(config: Any) -> bool:
    return bool(getattr(config, "what_if", False))


def run_thresholds(conn: psycopg.Connection, tunable: Tunable, config: Any, log: Any) -> dict[str, Any]:
    """The values this run evaluates with, by threshold name; saves Launchpad values unless it is a what-if run.

    A bad PM_INTEL_<NAME> or a given value out of range fails the run with one line."""
    given = given_values(tunable, config)
    try:
        values = thresholds.saved_values(conn, tunable.signal_type, log=log)
        given = {n: thresholds.validate(tunable.signal_type, n, v) for n, v in given.items()}
    except thresholds.ThresholdError as exc:
        raise dg.Failure(description=f"invalid threshold: {exc}") from None
    changed = {n: v for n, v in given.items() if v != values[n]}  # typing the current value saves nothing
    values.update(given)
    if changed and not is_what_if(config):
        thresholds.save_overrides(conn, tunable.signal_type, changed, "launchpad")
        log.info(f"{tunable.signal_type}: saved as the lasting thresholds: {changed}")
    elif given and is_what_if(config):
        log.info(
            f"{tunable.signal_type}: WHAT-IF run under {given}; the live table and saved values are untouched"
        )
    return values


def write_what_if(
    conn: psycopg.Connection,
    signal_type: str,
    values: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
) -> tuple[str, int]:
    """Store a what-if run's rows beside the live table; returns (what_if_id, rows written)."""
    what_if_id = uuid.uuid4().hex[:12]
    data = [
        (
            what_if_id,
            signal_type,
            str(r["signal_key"]),
            r.get("suppressed_reason"),
            Jsonb(dict(values)),
            Jsonb(json.loads(json.dumps(dict(r), default=str))),
        )
        for r in rows
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into signal_what_if (what_if_id, signal_type, signal_key, suppressed_reason, thresholds, row)"
            " values (%s, %s, %s, %s, %s, %s) on conflict do nothing",
            data,
        )
    return what_if_id, len(data)
