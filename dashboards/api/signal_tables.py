"""The signal tables the API serves: the one adapter over the project's signal declarations.

Today the declarations are two lists (pm_sensors.alerts.sources.SOURCES names each signal type; the dashboards'
SIGNAL_TYPES knows its time column and which of market / token / wallet / event columns it has). When they become
one spec list, `signal_tables` is the only function to repoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class SignalTable:
    signal_type: str  # the name alert rules and the API use, e.g. "fresh_wallet"
    table: str
    label: str
    time_column: str  # indexed (descending); the API pages by (time_column, signal_key)
    has_market: bool
    has_token: bool
    has_wallet: bool
    has_event: bool


@cache
def signal_tables() -> tuple[SignalTable, ...]:
    from dashboards.signal_types import SIGNAL_TYPES
    from pm_sensors.alerts.sources import SOURCES

    names = {s.table: s.signal_type for s in SOURCES}
    return tuple(
        SignalTable(
            signal_type=names.get(t.table, t.table),
            table=t.table,
            label=t.label,
            time_column=t.time_column,
            has_market=t.has_market,
            has_token=t.has_token,
            has_wallet=t.has_wallet,
            has_event=t.has_event,
        )
        for t in SIGNAL_TYPES
    )


def by_name(name: str) -> SignalTable | None:
    """A signal type by its name or its table's name."""
    return next((t for t in signal_tables() if name in (t.signal_type, t.table)), None)
