"""What a signal is, declared once: its table, how it reads, and its thresholds (Dagster-free).

Each signal module declares one `SignalSpec`; `specs.py` lists them. Alerts, the scorecard, rankings, the
dashboards, the threshold editor, the backtest and the Dagster assets' Launchpad config all read that list.

Thresholds are a pydantic model (`ThresholdSet`) whose fields carry default, finite range (ge/le) and
description once. A field's threshold name is its alias when it has one (market signals keep short attribute
names for their rule code: `min_move_points` is the threshold `spike_min_move_points`), else its own name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field


class ThresholdSet(BaseModel):
    """A signal's thresholds: immutable, every number finite and inside its declared range."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, allow_inf_nan=False, extra="forbid")

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ThresholdSet:
        """From threshold names (as run config and overrides spell them); unknown names are ignored."""
        names = {threshold_name(n, f): n for n, f in cls.model_fields.items()}
        return cls(**{names[k]: v for k, v in values.items() if k in names})

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes` (attribute names), validated like any other value."""
        return type(self)(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Any]:
        """Attribute name -> value (what a signal row's evidence stores)."""
        return self.model_dump()


def threshold(
    default: float | int | bool,
    doc: str,
    *,
    ge: float | None = None,
    le: float | None = None,
    name: str | None = None,
) -> Any:
    """One threshold field: default, finite range and what it means (`name`: its catalogue name if not the field's)."""
    return Field(default, ge=ge, le=le, description=doc, alias=name)


def threshold_name(attribute: str, info: Any) -> str:
    return info.alias or attribute


@dataclass(frozen=True)
class IngestedLookup:
    """Where the upstream row's ingestion time lives: `table.column`, joined on signal column -> table column."""

    table: str
    column: str
    join: tuple[tuple[str, str], ...]


TRADE_INGESTED = IngestedLookup(
    "trades", "ingested_at", (("traded_at", "traded_at"), ("fill_key", "fill_key"))
)


@dataclass(frozen=True)
class Tunable:
    """An asset whose thresholds users edit (dashboard override store, Launchpad)."""

    signal_type: str  # the override store's and alert rules' name
    asset: str  # the Dagster asset (op) that evaluates it
    thresholds: type[ThresholdSet]


@dataclass(frozen=True)
class SignalSpec(Tunable):
    """A signal table: every signal table has `signal_key` (primary key), `suppressed_reason` (null = alert),
    `evidence` jsonb (evidence["summary"] is one sentence a person reads) and `detected_at`."""

    table: str = ""
    label: str = ""  # the dashboards' name of the table ("Fresh-wallet trades")
    alert_title: str = ""  # the name of one alert ("Fresh wallet trade")
    # When a follower could first have acted on it: alert latency, scorecard entry price, "since" filters.
    time_column: str = ""
    # How the scorecard reads the outcome a follower buys: "side" (BUY follows the token, SELL the complement),
    # "move" (the sign of move_points), "buy" (always the token), "none" (not directional).
    direction: str = "none"
    aliases: Mapping[str, str] = field(default_factory=dict)  # alert filter name -> column
    rule: Callable[[Mapping[str, Any]], bool] | None = None  # pure: does this row's evidence fire?
    ingested: IngestedLookup | None = None
    has_market: bool = True  # a condition_id column
    has_token: bool = False  # a token_id column
    has_wallet: bool = False  # a wallet column
    has_event: bool = False  # an event_id column (negRisk signals)
    backtest: bool = False  # backtest.EVALUATORS replays it before a threshold is saved
