"""The signal tables the API serves, read from the one signal list (pm_assets/signals/specs.py): a new signal
appears in the API with its spec. `signal_tables` is the only place the API reads the specs.
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
    from pm_assets.signals.specs import SIGNALS

    return tuple(
        SignalTable(
            signal_type=s.signal_type,
            table=s.table,
            label=s.label,
            time_column=s.time_column,
            has_market=s.has_market,
            has_token=s.has_token,
            has_wallet=s.has_wallet,
            has_event=s.has_event,
        )
        for s in SIGNALS
    )


def by_name(name: str) -> SignalTable | None:
    """A signal type by its name or its table's name."""
    return next((t for t in signal_tables() if name in (t.signal_type, t.table)), None)
