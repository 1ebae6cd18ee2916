"""Position building shared by the insider signals: accumulation, one alert per wallet and market, escalation.

Many fills by one wallet in one market are one position: the signal fires at the first fill where the fills of
the trailing accumulation window satisfy its rule, and that alert covers the window's fills plus every later fill
within one window of the crossing (twelve $5k buys are one $60k alert, not twelve and not zero). Afterwards the
same wallet and market only alert again when the position crosses the next escalation tier (2x, 5x the first
alert), never for repeats. A SELL is an entry into the other outcome at 1 - price, so a sell at 0.03 is a sweep
like a buy at 0.97. Pure functions of plain data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Fill:
    fill_key: str
    traded_at: datetime
    wallet: str
    condition_id: str
    token_id: str
    side: str
    price: float
    size: float
    outcome: str | None = None

    @property
    def usdc(self) -> float:
        return self.price * self.size

    @property
    def entry_price(self) -> float:
        """The price paid for the outcome the fill leaves the wallet long of."""
        return self.price if self.side == "BUY" else 1.0 - self.price


@dataclass(frozen=True)
class Position:
    """The fills one alert covers and the fill at which its rule first held."""

    fills: tuple[Fill, ...]
    crossing: Fill

    @property
    def usdc(self) -> float:
        return sum(f.usdc for f in self.fills)

    @property
    def started_at(self) -> datetime:
        return self.fills[0].traded_at

    @property
    def ended_at(self) -> datetime:
        return self.fills[-1].traded_at

    @property
    def entry_vwap(self) -> float:
        usdc = self.usdc
        if usdc <= 0:
            return self.crossing.entry_price
        return sum(f.entry_price * f.usdc for f in self.fills) / usdc

    @property
    def largest(self) -> Fill:
        return max(self.fills, key=lambda f: (f.usdc, f.fill_key))


@dataclass(frozen=True)
class Escalation:
    tier: int
    multiplier: float
    crossing: Fill
    cumulative_usdc: float
    fill_count: int


def ordered(fills: Sequence[Fill]) -> list[Fill]:
    return sorted(fills, key=lambda f: (f.traded_at, f.fill_key))


def first_alert_position(
    fills: Sequence[Fill], window: timedelta, fires: Callable[[list[Fill]], bool]
) -> Position | None:
    """The position of the first fill whose trailing window (t - window, t] satisfies `fires`, or None."""
    fills = ordered(fills)
    start = 0
    for i, fill in enumerate(fills):
        while fills[start].traded_at <= fill.traded_at - window:
            start += 1
        trailing = fills[start : i + 1]
        if fires(trailing):
            end = i + 1
            while end < len(fills) and fills[end].traded_at <= fill.traded_at + window:
                end += 1
            return Position(fills=tuple(fills[start:end]), crossing=fill)
    return None


def escalations(
    position: Position, later_fills: Sequence[Fill], multipliers: Sequence[float]
) -> list[Escalation]:
    """Tiers crossed by fills after the alert's position: tier k when the total reaches multipliers[k-1] x first."""
    base = position.usdc
    last = position.fills[-1]
    after = [f for f in ordered(later_fills) if (f.traded_at, f.fill_key) > (last.traded_at, last.fill_key)]
    out: list[Escalation] = []
    cumulative = base
    count = len(position.fills)
    tier = 0
    for fill in after:
        cumulative += fill.usdc
        count += 1
        while tier < len(multipliers) and base > 0 and cumulative >= multipliers[tier] * base:
            tier += 1
            out.append(Escalation(tier, multipliers[tier - 1], fill, cumulative, count))
    return out


def is_sweep(entry_price: float, sweep_entry_price: float) -> bool:
    """Buying at >= sweep price (or selling at <= 1 - it) collects a near-certain payout; not an insider entry."""
    return entry_price >= sweep_entry_price


def signal_key(signal: str, *parts: object) -> str:
    """Deterministic row key from the inputs that identify the alert, so re-runs upsert in place."""
    raw = "|".join([signal, *(str(p) for p in parts)])
    return hashlib.sha1(raw.encode()).hexdigest()


def hours_between(earlier: datetime | None, later: datetime) -> float | None:
    if earlier is None:
        return None
    return (later - earlier).total_seconds() / 3600.0


def usd(amount: float) -> str:
    return f"${amount:,.0f}"


def pct(share: float) -> str:
    return f"{share * 100:.1f}%" if share < 0.1 else f"{share * 100:.0f}%"


def age_text(hours: float | None) -> str:
    if hours is None:
        return "wallet age unknown"
    if hours < 48:
        return f"wallet first active {hours:.0f} h before"
    return f"wallet first active {hours / 24:.0f} days before"


SUPPRESSING_LABELS = ("market_maker", "bot", "settlement_sweeper")


def noise_reason(labels: Sequence[str], entry_vwap: float, thresholds: dict) -> str | None:
    """Why a fired position is not alert-worthy (kept as suppressed_reason), or None."""
    if thresholds["exclude_labelled_wallets"]:
        for label in SUPPRESSING_LABELS:
            if label in labels:
                return label
    if is_sweep(entry_vwap, thresholds["sweep_entry_price"]):
        return "settlement_sweep"
    return None


def trailing_fills(position: Position, window: timedelta) -> list[Fill]:
    """The fills of the trailing window that fired at the crossing."""
    c = position.crossing
    return [
        f
        for f in position.fills
        if c.traded_at - window < f.traded_at and (f.traded_at, f.fill_key) <= (c.traded_at, c.fill_key)
    ]


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class Tier:
    """One row of a position: tier 0 is the first alert, tiers 1.. its escalations."""

    tier: int
    crossing: Fill
    usdc: float
    fill_count: int
    multiplier: float | None
    held: tuple[Fill, ...]

    @property
    def entry_vwap(self) -> float:
        usdc = sum(f.usdc for f in self.held)
        return (
            sum(f.entry_price * f.usdc for f in self.held) / usdc if usdc > 0 else self.crossing.entry_price
        )


def position_tiers(position: Position, fills: Sequence[Fill], multipliers: Sequence[float]) -> list[Tier]:
    later = [f for f in ordered(fills) if f.traded_at > position.ended_at]
    out = [Tier(0, position.crossing, position.usdc, len(position.fills), None, position.fills)]
    for e in escalations(position, fills, multipliers):
        held = position.fills + tuple(
            f for f in later if (f.traded_at, f.fill_key) <= (e.crossing.traded_at, e.crossing.fill_key)
        )
        out.append(Tier(e.tier, e.crossing, e.cumulative_usdc, e.fill_count, e.multiplier, held))
    return out
