"""Position building shared by the insider signals: accumulation, one alert per wallet and market, escalation.

Many fills by one wallet in one market are one position: the signal fires at the first fill where the fills of
the trailing accumulation window satisfy its rule, and that alert covers the window's fills plus every later fill
within one window of the crossing (twelve $5k buys are one $60k alert, not twelve and not zero). Afterwards the
same wallet and market only alert again when the position crosses the next escalation tier (2x, 5x the first
alert), never for repeats.

Positions are net (issue 16): a BUY adds shares of its outcome at their cost; a SELL takes shares out of the
wallet's holding of that outcome (removing their share of its cost), so it is an exit, never an entry into the
other outcome, and a sell of shares the fills do not show (bought before them) takes out nothing. A position's
USDC is the cost of what the wallet still holds in its largest outcome; escalations compare that, not turnover.
Pure functions of plain data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
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
    def is_entry(self) -> bool:
        """Only a buy enters a position; a sell exits one (there is no short on Polymarket)."""
        return self.side == "BUY"


@dataclass(frozen=True)
class Holding:
    """What a wallet holds of one outcome after some fills: shares, their cost, and the exits taken out."""

    token_id: str | None
    outcome: str | None
    shares: float
    usdc: float  # cost of the shares still held
    exited_usdc: float  # cost taken out by sells

    @property
    def entry_vwap(self) -> float | None:
        return self.usdc / self.shares if self.shares > 0 else None


class Ledger:
    """Net holdings per outcome token, fed fills in time order."""

    def __init__(self) -> None:
        self.shares: dict[str, float] = {}
        self.cost: dict[str, float] = {}
        self.exited: dict[str, float] = {}
        self.outcomes: dict[str, str | None] = {}

    def apply(self, fill: Fill) -> None:
        token = fill.token_id
        self.outcomes.setdefault(token, fill.outcome)
        if fill.is_entry:
            self.shares[token] = self.shares.get(token, 0.0) + fill.size
            self.cost[token] = self.cost.get(token, 0.0) + fill.usdc
            return
        held = self.shares.get(token, 0.0)
        if held <= 0:
            return  # an exit from shares bought before these fills: no entry into anything
        take = min(fill.size, held)
        removed = self.cost[token] * take / held
        self.shares[token] = held - take
        self.cost[token] = max(0.0, self.cost[token] - removed)
        self.exited[token] = self.exited.get(token, 0.0) + removed

    def largest(self) -> Holding:
        """The outcome with the most cost still held (ties: lowest token id); empty when nothing is held."""
        if not self.cost:
            return Holding(None, None, 0.0, 0.0, 0.0)
        token = max(self.cost, key=lambda t: (self.cost[t], t))
        return Holding(
            token,
            self.outcomes.get(token),
            self.shares.get(token, 0.0),
            self.cost[token],
            sum(self.exited.values()),
        )


def net_holding(fills: Sequence[Fill]) -> Holding:
    """The largest net holding the fills (in time order) leave the wallet with."""
    ledger = Ledger()
    for f in ordered(fills):
        ledger.apply(f)
    return ledger.largest()


def net_usdc(fills: Sequence[Fill]) -> float:
    return net_holding(fills).usdc


@dataclass(frozen=True)
class Position:
    """The fills one alert covers and the fill at which its rule first held."""

    fills: tuple[Fill, ...]
    crossing: Fill

    @property
    def usdc(self) -> float:
        """Net: the cost of what the position's fills leave the wallet holding in its largest outcome."""
        return net_usdc(self.fills)

    @property
    def started_at(self) -> datetime:
        return self.fills[0].traded_at

    @property
    def ended_at(self) -> datetime:
        return self.fills[-1].traded_at

    @property
    def entry_vwap(self) -> float:
        return net_holding(self.fills).entry_vwap or self.crossing.price


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
    """Tiers crossed by fills after the alert's position: tier k when the net holding reaches multipliers[k-1] x
    the first alert's. A sell lowers the holding, so an exit never escalates."""
    ledger = Ledger()
    for f in ordered(position.fills):
        ledger.apply(f)
    base = ledger.largest().usdc
    last = position.fills[-1]
    after = [f for f in ordered(later_fills) if (f.traded_at, f.fill_key) > (last.traded_at, last.fill_key)]
    out: list[Escalation] = []
    count = len(position.fills)
    tier = 0
    for fill in after:
        ledger.apply(fill)
        cumulative = ledger.largest().usdc
        count += 1
        while tier < len(multipliers) and base > 0 and cumulative >= multipliers[tier] * base:
            tier += 1
            out.append(Escalation(tier, multipliers[tier - 1], fill, cumulative, count))
    return out


def is_sweep(entry_price: float, sweep_entry_price: float) -> bool:
    """Buying at >= sweep price collects a near-certain payout; not an insider entry."""
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


def noise_reason(
    labels: Sequence[str], entry_vwap: float, thresholds: Mapping, hours_to_end: float | None = None
) -> str | None:
    """Why a fired position is not alert-worthy (kept as suppressed_reason), or None."""
    if thresholds["exclude_labelled_wallets"]:
        for label in SUPPRESSING_LABELS:
            if label in labels:
                return label
    if is_sweep(entry_vwap, thresholds["sweep_entry_price"]):
        return "settlement_sweep"
    if is_late_favourite(entry_vwap, hours_to_end, thresholds):
        return "favourite_near_resolution"
    return None


def is_late_favourite(entry_vwap: float, hours_to_end: float | None, thresholds: Mapping) -> bool:
    """The favourite bought in the final hours before the end date: an ordinary bet on the likely winner."""
    final = thresholds.get("favourite_final_hours")
    price = thresholds.get("favourite_min_price")
    if hours_to_end is None or final is None or price is None:
        return False
    return entry_vwap >= price and hours_to_end <= final


def payoff(entry_vwap: float) -> float | None:
    """What one USDC at this entry price wins if the outcome happens: (1 - p) / p."""
    return round((1.0 - entry_vwap) / entry_vwap, 4) if 0 < entry_vwap < 1 else None


def hours_left(end_date: datetime | None, at: datetime) -> float | None:
    """Hours from `at` to the market's end date (negative once past it); None when the end date is unknown."""
    return None if end_date is None else round((end_date - at).total_seconds() / 3600.0, 3)


def left_text(hours: float) -> str:
    if hours < 0:
        return f"{-hours:.0f} h after the market's end date"
    if hours < 48:
        return f"{hours:.0f} h before the market's end date"
    return f"{hours / 24:.0f} days before the market's end date"


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
        return net_holding(self.held).entry_vwap or self.crossing.price

    @property
    def holding(self) -> Holding:
        return net_holding(self.held)


def position_tiers(position: Position, fills: Sequence[Fill], multipliers: Sequence[float]) -> list[Tier]:
    later = [f for f in ordered(fills) if f.traded_at > position.ended_at]
    out = [Tier(0, position.crossing, position.usdc, len(position.fills), None, position.fills)]
    for e in escalations(position, fills, multipliers):
        held = position.fills + tuple(
            f for f in later if (f.traded_at, f.fill_key) <= (e.crossing.traded_at, e.crossing.fill_key)
        )
        out.append(Tier(e.tier, e.crossing, e.cumulative_usdc, e.fill_count, e.multiplier, held))
    return out
