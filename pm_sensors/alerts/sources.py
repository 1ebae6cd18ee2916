"""Which signal tables alerts read: signal_type -> table, upstream time column, filter aliases.

Every signal table has `signal_key` (primary key), `suppressed_reason` (null = alert-worthy), `evidence`
jsonb (with evidence["summary"], one sentence a person reads) and `detected_at`. A new signal table plugs
in with one `SignalSource(...)` line in SOURCES. Tables that do not exist yet (their migration has not
run) are skipped at run time. Dagster-free: the dashboards list signal types and filter names from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYSTEM_SIGNAL_TYPE = "system"


@dataclass(frozen=True)
class IngestedLookup:
    """Where the upstream row's ingestion time lives: `table.column`, joined on signal column -> table column."""

    table: str
    column: str
    join: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SignalSource:
    signal_type: str
    table: str
    upstream_column: str | None  # when the upstream trade/event happened (None: unknown)
    aliases: dict[str, str] = field(default_factory=dict)  # filter name -> column: "usdc" -> "usdc_size"
    ingested: IngestedLookup | None = None
    title: str | None = None

    @property
    def label(self) -> str:
        return self.title or self.signal_type.replace("_", " ").capitalize()

    def column_for(self, name: str) -> str:
        return self.aliases.get(name, name)


_TRADE_INGESTED = IngestedLookup(
    "trades", "ingested_at", (("traded_at", "traded_at"), ("fill_key", "fill_key"))
)

SOURCES: tuple[SignalSource, ...] = (
    SignalSource(
        "fresh_wallet",
        "fresh_wallet_trades",
        "traded_at",
        {"usdc": "usdc_size", "score": "risk_score", "age_hours": "wallet_age_hours"},
        ingested=_TRADE_INGESTED,
        title="Fresh wallet trade",
    ),
    SignalSource(
        "arbitrage",
        "arbitrage_windows",
        "opened_at",
        {"edge": "peak_edge", "usdc": "capturable_usdc", "profit": "profit_after_fees"},
        title="Arbitrage window",
    ),
    SignalSource(
        "price_spike",
        "price_spikes",
        "window_end",
        {"move": "move_points", "usdc": "volume_usdc", "z": "volume_z"},
        title="Price spike",
    ),
    SignalSource(
        "size_anomaly",
        "size_anomalies",
        "traded_at",
        {"usdc": "usdc_size", "score": "anomaly_score", "risk": "risk_score", "share": "volume_share"},
        ingested=_TRADE_INGESTED,
        title="Size anomaly",
    ),
    SignalSource(
        "wallet_cluster",
        "wallet_clusters",
        "ended_at",
        {"usdc": "total_usdc", "wallets": "wallet_count", "score": "risk_score"},
        title="Wallet cluster",
    ),
)

_BY_TYPE = {s.signal_type: s for s in SOURCES}
_BY_TABLE = {s.table: s for s in SOURCES}


def signal_types() -> list[str]:
    """Every signal_type an alert rule may name ('system' receives dead-man's-switch alerts)."""
    return [*_BY_TYPE, SYSTEM_SIGNAL_TYPE]


def source_for(signal_type: str) -> SignalSource | None:
    """The source for a rule's signal_type; a table name is accepted as a synonym."""
    return _BY_TYPE.get(signal_type) or _BY_TABLE.get(signal_type)
