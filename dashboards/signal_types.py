"""The signal tables the dashboards know, and their evidence in words a person reads.

SIGNAL_TYPES is derived from the signal specs (pm_assets/signals/specs.py): a new signal appears on every page
(overview, signals explorer, market and wallet drilldowns) once its module declares its SPEC; without a
dedicated `describe` here, its evidence["summary"] or its columns are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pm_assets.signals.specs import SIGNALS


def _present(value: Any) -> bool:
    # NaN and pandas' NaT are the only values unequal to themselves.
    return value is not None and value == value


def duration_words(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.0f} h" if hours >= 10 or hours == int(hours) else f"{hours:.1f} h"
    return f"{hours / 24:.0f} days"


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _clock(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else str(value)


def describe_fresh_wallet_trade(row: Mapping[str, Any]) -> str:
    outcome = row.get("outcome") if _present(row.get("outcome")) else "the outcome"
    side = str(row.get("side") or "BUY").lower()
    words = f"{_money(row['usdc_size'])} {side} of {outcome} at {row['price']:.2f}"
    if _present(row.get("wallet_age_hours")):
        words = f"wallet first active {duration_words(float(row['wallet_age_hours']))} before this {words}"
    else:
        words = f"wallet of unknown age made this {words}"
    if _present(row.get("prior_trade_count")):
        prior = int(row["prior_trade_count"])
        words += f"; {prior} earlier trade{'s' if prior != 1 else ''}"
    return words


_ARB_KIND = {
    "binary_ask": "YES + NO asks summed to {total:.3f}",
    "binary_bid": "YES + NO bids summed to {total:.3f}",
    "negrisk_ask": "the event's YES asks summed to {total:.3f}",
    "negrisk_bid": "the event's YES bids summed to {total:.3f}",
}


def describe_arbitrage_window(row: Mapping[str, Any]) -> str:
    evidence = row.get("evidence") or {}
    edge = float(row["peak_edge"])
    bid_side = str(row.get("kind", "")).endswith("_bid")
    total = evidence.get("sum_of_bids" if bid_side else "sum_of_asks") or (1 + edge if bid_side else 1 - edge)
    words = _ARB_KIND.get(row.get("kind"), "prices summed to {total:.3f}").format(total=float(total))
    words += f" (edge {edge * 100:.1f} pts)"
    if _present(row.get("duration_s")):
        words += f", open for {duration_words(float(row['duration_s']) / 3600)}"
    elif not _present(row.get("closed_at")):
        words += ", still open"
    if _present(row.get("fillable_size")):
        words += f"; {_money(float(row['fillable_size']))} fillable at that edge"
    return words


def describe_price_spike(row: Mapping[str, Any]) -> str:
    minutes = (row["window_end"] - row["window_start"]).total_seconds() / 60
    span = f"{minutes:.0f} min to {_clock(row['window_end'])}"
    if row.get("kind") == "volume_z" or not _present(row.get("price_before")):
        return (
            f"{_money(float(row.get('volume_usdc') or 0))} traded in the {span}, "
            f"{float(row.get('volume_z') or 0):.1f} standard deviations above the market's baseline"
        )
    before, after = float(row["price_before"]), float(row["price_after"])
    return f"price moved from {before:.2f} to {after:.2f} ({(after - before) * 100:+.1f} pts) in the {span}"


def describe_size_anomaly(row: Mapping[str, Any]) -> str:
    outcome = row.get("outcome") if _present(row.get("outcome")) else "the outcome"
    words = f"{_money(row['usdc_size'])} {str(row.get('side') or 'BUY').lower()} of {outcome} at {row['price']:.2f}"
    if _present(row.get("volume_share")):
        words += f", {float(row['volume_share']) * 100:.0f}% of the market's 24h volume"
    if _present(row.get("depth_share")):
        words += f", {float(row['depth_share']) * 100:.0f}% of the book's depth"
    return words + f" (anomaly score {float(row['anomaly_score']):.1f})"


def describe_wallet_cluster(row: Mapping[str, Any]) -> str:
    outcome = row.get("outcome") if _present(row.get("outcome")) else "one outcome"
    minutes = (row["ended_at"] - row["started_at"]).total_seconds() / 60
    return (
        f"{int(row['wallet_count'])} wallets put {_money(float(row['total_usdc']))} on {outcome} "
        f"within {duration_words(minutes / 60)}"
    )


def describe_generic(row: Mapping[str, Any]) -> str:
    skip = {"evidence", "signal_key", "detected_at", "suppressed_reason"}
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in row.items() if k not in skip and _present(v)]
    return "; ".join(parts[:6])


@dataclass(frozen=True)
class SignalType:
    table: str
    label: str
    time_column: str
    describe: Callable[[Mapping[str, Any]], str] = describe_generic
    has_market: bool = True  # a condition_id column
    has_token: bool = False  # a token_id column (its outcome is shown)
    has_wallet: bool = False  # a wallet column (counted on the wallets page)
    has_event: bool = False  # an event_id column (negRisk signals name the event when no market)

    def evidence_words(self, row: Mapping[str, Any]) -> str:
        evidence = row.get("evidence")
        if isinstance(evidence, Mapping) and evidence.get("summary"):
            return str(evidence["summary"])
        try:
            return self.describe(row)
        except (KeyError, TypeError, ValueError, AttributeError):
            return describe_generic(row)


# How each signal's evidence reads in words (a signal without one shows evidence["summary"] or its columns).
DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "fresh_wallet_trades": describe_fresh_wallet_trade,
    "arbitrage_windows": describe_arbitrage_window,
    "price_spikes": describe_price_spike,
    "size_anomalies": describe_size_anomaly,
    "wallet_clusters": describe_wallet_cluster,
}

SIGNAL_TYPES: tuple[SignalType, ...] = tuple(
    SignalType(
        s.table,
        s.label,
        s.time_column,
        DESCRIBE.get(s.table, describe_generic),
        has_market=s.has_market,
        has_token=s.has_token,
        has_wallet=s.has_wallet,
        has_event=s.has_event,
    )
    for s in SIGNALS
)

BY_TABLE = {t.table: t for t in SIGNAL_TYPES}
