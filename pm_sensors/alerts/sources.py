"""Which signal tables alerts read: signal_type -> table, upstream time column, filter aliases.

Derived from the signal specs (pm_assets/signals/specs.py), so a new signal is alertable once its module
declares its SPEC. Every signal table has `signal_key` (primary key), `suppressed_reason` (null = alert-worthy),
`evidence` jsonb (with evidence["summary"], one sentence a person reads) and `detected_at`. Tables that do not
exist yet (their migration has not run) are skipped at run time. Dagster-free: the dashboards list signal types
and filter names from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pm_assets.signals.spec import IngestedLookup
from pm_assets.signals.specs import SIGNALS

__all__ = ["IngestedLookup", "SignalSource", "SOURCES", "SYSTEM_SIGNAL_TYPE", "signal_types", "source_for"]

SYSTEM_SIGNAL_TYPE = "system"


@dataclass(frozen=True)
class SignalSource:
    signal_type: str
    table: str
    upstream_column: str | None  # when the upstream trade/event happened (None: unknown)
    aliases: Mapping[str, str] = field(default_factory=dict)  # filter name -> column: "usdc" -> "usdc_size"
    ingested: IngestedLookup | None = None
    title: str | None = None

    @property
    def label(self) -> str:
        return self.title or self.signal_type.replace("_", " ").capitalize()

    def column_for(self, name: str) -> str:
        return self.aliases.get(name, name)


SOURCES: tuple[SignalSource, ...] = tuple(
    SignalSource(s.signal_type, s.table, s.time_column, dict(s.aliases), s.ingested, s.alert_title)
    for s in SIGNALS
)

_BY_TYPE = {s.signal_type: s for s in SOURCES}
_BY_TABLE = {s.table: s for s in SOURCES}


def signal_types() -> list[str]:
    """Every signal_type an alert rule may name ('system' receives dead-man's-switch alerts)."""
    return [*_BY_TYPE, SYSTEM_SIGNAL_TYPE]


def source_for(signal_type: str) -> SignalSource | None:
    """The source for a rule's signal_type; a table name is accepted as a synonym."""
    return _BY_TYPE.get(signal_type) or _BY_TABLE.get(signal_type)
