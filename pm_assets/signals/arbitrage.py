"""Arbitrage windows: when buying (or selling) one share of every outcome pays more than it costs, after fees.

Dagster-free (the backtest replays it). Two kinds of sets:
- binary: YES + NO of one market; `binary_ask` when YES ask + NO ask + fees < 1 − e (buy both, redeem 1),
  `binary_bid` when YES bid + NO bid − fees > 1 + e (split 1 USDC into both, sell both);
- negRisk: the YES tokens of every outcome of an event (`negrisk_ask` / `negrisk_bid`), only when the set is
  complete (book_traps.negrisk_set_reason).

Depth: `fill_walk` walks every leg's ladder together, one share of each leg per set, while the next set still
earns a positive edge after each leg's taker fee (pm_assets.markets.fees). A window opens when the top-of-book
edge after fees reaches `min_edge` and closes at the first book state where it no longer does. Book state is
replayed from stored ticks (`ws_book_snapshots` full books, `ws_price_changes` absolute level sizes, REST
`order_book_snapshots`) by the small pure `BookState` below; all ticks with the same timestamp are applied
before a set is evaluated, so the mirrored YES/NO halves of one update never open a false window.

Capturable dollars: a user learns of the window and needs `reaction_s` seconds to act. What they could take is
the profit after fees of the fill available in the book as it stood `reaction_s` after the open, with at most
`max_stake_usdc` of cost; zero when the window closed sooner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from hashlib import sha1
from typing import Any

from pm_assets.markets.fees import taker_fee, taker_fee_per_share
from pm_assets.signals.book_traps import ghost_book_reason, held_reason
from pm_assets.signals.spec import SignalSpec, ThresholdSet, threshold

Level = tuple[float, float]
KINDS = ("binary_ask", "binary_bid", "negrisk_ask", "negrisk_bid")


class ArbitrageThresholds(ThresholdSet):
    """Each field's alias is its threshold name."""

    min_edge: float = threshold(
        0.002,
        "USDC per set after fees at the top of the books that opens a window",
        ge=0.0,
        le=0.5,
        name="arbitrage_min_edge",
    )
    reaction_s: float = threshold(
        2.0,
        "seconds a user needs to act; capturable dollars use the book then",
        ge=0.0,
        le=3600.0,
        name="arbitrage_reaction_s",
    )
    max_stake_usdc: float = threshold(
        1000.0,
        "most USDC one user commits to a window (capturable model)",
        ge=1.0,
        le=1e7,
        name="arbitrage_max_stake_usdc",
    )
    ghost_extreme: float = threshold(
        0.01,
        "a top this close to 0 or 1 with little size is a ghost quote",
        ge=0.0,
        le=0.2,
        name="arbitrage_ghost_extreme",
    )
    ghost_min_usdc: float = threshold(
        25.0,
        "USDC (price × size) below which an extreme top is a ghost",
        ge=0.0,
        le=1e6,
        name="arbitrage_ghost_min_usdc",
    )
    ghost_max_deviation: float = threshold(
        0.15,
        "largest midpoint vs last-trade gap of a trusted book",
        ge=0.0,
        le=1.0,
        name="arbitrage_ghost_max_deviation",
    )


@dataclass(frozen=True)
class Leg:
    """One outcome token of a set, with what its fee and trap checks need."""

    token_id: str
    condition_id: str
    fee_schedule: Mapping[str, Any] | None = None
    fees_enabled: bool | None = True


@dataclass(frozen=True)
class Fill:
    size: float  # sets
    cost: float  # USDC paid for the legs (ask) or received (bid), before fees
    fees: float
    gross_profit: float
    profit_after_fees: float


def _leg_fee_per_share(leg: Leg, price: float) -> float:
    return taker_fee_per_share(price, leg.fee_schedule, leg.fees_enabled)


def top_edge(
    legs: Sequence[Leg], ladders: Sequence[Sequence[Level]], side: str
) -> tuple[float, float] | None:
    """(edge after fees, gross edge) per set at the top of every ladder; None if a ladder is empty."""
    if any(not ladder for ladder in ladders):
        return None
    prices = [ladder[0][0] for ladder in ladders]
    fees = sum(_leg_fee_per_share(leg, p) for leg, p in zip(legs, prices, strict=True))
    gross = 1.0 - sum(prices) if side == "ask" else sum(prices) - 1.0
    return gross - fees, gross


def fill_walk(
    legs: Sequence[Leg], ladders: Sequence[Sequence[Level]], side: str, max_cost: float | None = None
) -> Fill:
    """Sets fillable while the marginal set keeps a positive edge after fees, walking all ladders together."""
    idx = [0] * len(ladders)
    left = [ladder[0][1] if ladder else 0.0 for ladder in ladders]
    size = cost = 0.0
    shares_at: list[dict[float, float]] = [{} for _ in ladders]
    while all(i < len(ladder) for i, ladder in zip(idx, ladders, strict=True)):
        prices = [ladder[i][0] for i, ladder in zip(idx, ladders, strict=True)]
        fee = sum(_leg_fee_per_share(leg, p) for leg, p in zip(legs, prices, strict=True))
        set_price = sum(prices)
        edge = (1.0 - set_price if side == "ask" else set_price - 1.0) - fee
        if edge <= 0:
            break
        step = min(left)
        if max_cost is not None:
            unit = set_price if side == "ask" else 1.0  # selling sets first costs 1 USDC each to split
            step = min(step, max(0.0, (max_cost - (cost if side == "ask" else size)) / max(unit, 1e-9)))
        if step <= 0:
            break
        size += step
        cost += step * set_price
        for k, p in enumerate(prices):
            shares_at[k][p] = shares_at[k].get(p, 0.0) + step
            left[k] -= step
            if left[k] <= 1e-12:
                idx[k] += 1
                left[k] = ladders[k][idx[k]][1] if idx[k] < len(ladders[k]) else 0.0
    fees = sum(
        taker_fee(s, p, leg.fee_schedule, leg.fees_enabled)
        for leg, levels in zip(legs, shares_at, strict=True)
        for p, s in levels.items()
    )
    gross = size - cost if side == "ask" else cost - size
    return Fill(round(size, 6), round(cost, 6), round(fees, 6), round(gross, 6), round(gross - fees, 6))


@dataclass(frozen=True)
class ArbSet:
    """A set of legs whose payouts sum to exactly 1: a binary market's YES/NO, or a negRisk event's YESes."""

    key: str  # condition id (binary) or event id (negRisk)
    mode: str  # "binary" | "negrisk"
    legs: tuple[Leg, ...]
    condition_id: str | None = None
    event_id: str | None = None
    incomplete_reason: str | None = None  # negRisk: book_traps.negrisk_set_reason, static part


@dataclass(frozen=True)
class Evaluation:
    kind: str
    edge: float
    gross_edge: float
    fill: Fill
    capturable_fill: Fill
    suppressed_reason: str | None
    tops: tuple[float, ...]


def evaluate_set(
    arb: ArbSet,
    books: Mapping[str, tuple[Sequence[Level], Sequence[Level]]],
    ref_prices: Mapping[str, float],
    markets: Mapping[str, Any],
    at: datetime,
    th: ArbitrageThresholds,
) -> dict[str, Evaluation]:
    """The kinds of this set whose top edge after fees reaches min_edge at `at`, with trap verdicts.

    A leg whose book is unknown (never seen, 404) makes the binary set unknown (nothing fires); for a negRisk
    set it makes the set incomplete (fires suppressed, never as arbitrage).
    """
    out: dict[str, Evaluation] = {}
    missing = [leg for leg in arb.legs if leg.token_id not in books]
    if missing and arb.mode == "binary":
        return out
    for side in ("ask", "bid"):
        kind = f"{arb.mode}_{side}"
        known = [leg for leg in arb.legs if leg.token_id in books]
        ladders = [books[leg.token_id][1 if side == "ask" else 0] for leg in known]
        edges = top_edge(known, ladders, side)
        if edges is None or edges[0] < th.min_edge:
            continue
        reason = arb.incomplete_reason
        if missing and reason is None:
            reason = f"incomplete_negrisk_set: no book for {missing[0].condition_id}"
        for leg in arb.legs:
            if reason is not None:
                break
            market = markets.get(leg.condition_id)
            reason = held_reason(market, at) if market is not None else None
            if reason is None and leg.token_id in books:
                bids, asks = books[leg.token_id]
                reason = ghost_book_reason(
                    bids,
                    asks,
                    ref_prices.get(leg.token_id),
                    extreme=th.ghost_extreme,
                    min_usdc=th.ghost_min_usdc,
                    max_deviation=th.ghost_max_deviation,
                    side=side,
                )
        fill = fill_walk(known, ladders, side)
        capture = fill_walk(known, ladders, side, max_cost=th.max_stake_usdc)
        out[kind] = Evaluation(
            kind,
            round(edges[0], 6),
            round(edges[1], 6),
            fill,
            capture,
            reason,
            tuple(ladder[0][0] for ladder in ladders),
        )
    return out


@dataclass
class Window:
    set_key: str
    kind: str
    condition_id: str | None
    event_id: str | None
    opened_at: datetime
    suppressed_reason: str | None
    peak: Evaluation
    peak_at: datetime
    first: Evaluation
    last: Evaluation
    closed_at: datetime | None = None
    capturable_usdc: float | None = None
    observations: int = 1
    condition_ids: tuple[str, ...] = ()

    @property
    def signal_key(self) -> str:
        raw = f"arbitrage_windows|{self.kind}|{self.set_key}|{self.opened_at.isoformat()}"
        return sha1(raw.encode()).hexdigest()


@dataclass
class WindowTracker:
    """Opens, extends and closes windows from successive evaluations of each (set, kind)."""

    thresholds: ArbitrageThresholds
    open: dict[tuple[str, str], Window] = field(default_factory=dict)
    done: list[Window] = field(default_factory=list)

    def observe(self, arb: ArbSet, at: datetime, evaluations: Mapping[str, Evaluation]) -> None:
        for side in ("ask", "bid"):
            kind = f"{arb.mode}_{side}"
            ev = evaluations.get(kind)
            current = self.open.get((arb.key, kind))
            if current is not None and (ev is None or ev.suppressed_reason != current.suppressed_reason):
                self._close(current, at)
                current = None
            if ev is None:
                continue
            if current is None:
                self.open[(arb.key, kind)] = Window(
                    arb.key,
                    kind,
                    arb.condition_id,
                    arb.event_id,
                    at,
                    ev.suppressed_reason,
                    ev,
                    at,
                    ev,
                    ev,
                    condition_ids=tuple(leg.condition_id for leg in arb.legs),
                )
                continue
            self._settle_capture(current, at)
            current.last = ev
            current.observations += 1
            if ev.edge > current.peak.edge:
                current.peak, current.peak_at = ev, at

    def _settle_capture(self, w: Window, at: datetime) -> None:
        # The state that held `reaction_s` after the open is the last one seen before a tick later than that.
        if w.capturable_usdc is None and at > w.opened_at + timedelta(seconds=self.thresholds.reaction_s):
            w.capturable_usdc = max(0.0, w.last.capturable_fill.profit_after_fees)

    def _close(self, w: Window, at: datetime) -> None:
        self._settle_capture(w, at)
        if w.capturable_usdc is None:
            w.capturable_usdc = 0.0
        w.closed_at = at
        self.done.append(w)
        del self.open[(w.set_key, w.kind)]

    def windows(self, now: datetime | None = None) -> list[Window]:
        """Closed windows plus still-open ones (closed_at None; capture settled if `now` is late enough)."""
        still = []
        for w in self.open.values():
            w = replace(w)
            if now is not None:
                self._settle_capture(w, now)
            still.append(w)
        return [*self.done, *still]


class BookState:
    """Books replayed from stored ticks: snapshots replace, price changes set a level's absolute size."""

    def __init__(self) -> None:
        self.bids: dict[str, dict[float, float]] = {}
        self.asks: dict[str, dict[float, float]] = {}

    def snapshot(
        self, token_id: str, bids: Iterable[Mapping[str, Any]], asks: Iterable[Mapping[str, Any]]
    ) -> None:
        self.bids[token_id] = {float(x["price"]): float(x["size"]) for x in bids if float(x["size"]) > 0}
        self.asks[token_id] = {float(x["price"]): float(x["size"]) for x in asks if float(x["size"]) > 0}

    def change(self, token_id: str, side: str, price: float, size: float) -> None:
        if token_id not in self.bids:
            return  # a delta without a snapshot leaves the book unknown
        levels = self.bids[token_id] if side.upper() == "BUY" else self.asks[token_id]
        if size > 0:
            levels[price] = size
        else:
            levels.pop(price, None)

    def ladders(self) -> dict[str, tuple[list[Level], list[Level]]]:
        return {
            t: (sorted(self.bids[t].items(), reverse=True), sorted(self.asks[t].items())) for t in self.bids
        }

    def ladder(self, token_id: str) -> tuple[list[Level], list[Level]] | None:
        if token_id not in self.bids:
            return None
        return sorted(self.bids[token_id].items(), reverse=True), sorted(self.asks[token_id].items())


@dataclass(frozen=True)
class Tick:
    """One stored input: kind 'book' (bids/asks lists), 'change' (side/price/size) or 'trade' (price)."""

    at: datetime
    token_id: str
    kind: str
    bids: tuple = ()
    asks: tuple = ()
    side: str = ""
    price: float = 0.0
    size: float = 0.0


def replay_windows(
    sets: Sequence[ArbSet],
    ticks: Iterable[Tick],
    markets: Mapping[str, Any],
    th: ArbitrageThresholds,
    evaluate_from: datetime | None = None,
    now: datetime | None = None,
) -> list[Window]:
    """Every window in a time-ordered tick stream; sets are evaluated after each timestamp's ticks."""
    by_token: dict[str, list[ArbSet]] = {}
    for s in sets:
        for leg in s.legs:
            by_token.setdefault(leg.token_id, []).append(s)
    state = BookState()
    refs: dict[str, float] = {}
    tracker = WindowTracker(th)
    dirty: dict[str, ArbSet] = {}
    current: datetime | None = None

    def flush(at: datetime) -> None:
        if evaluate_from is None or at >= evaluate_from:
            for arb in dirty.values():
                books = {leg.token_id: b for leg in arb.legs if (b := state.ladder(leg.token_id)) is not None}
                tracker.observe(arb, at, evaluate_set(arb, books, refs, markets, at, th))
        dirty.clear()

    for tick in ticks:
        if current is not None and tick.at != current:
            flush(current)
        current = tick.at
        if tick.kind == "trade":
            refs[tick.token_id] = tick.price
            continue
        if tick.kind == "book":
            state.snapshot(tick.token_id, tick.bids, tick.asks)
        else:
            state.change(tick.token_id, tick.side, tick.price, tick.size)
        for arb in by_token.get(tick.token_id, ()):
            dirty[arb.key] = arb
    if current is not None:
        flush(current)
    return tracker.windows(now or current)


def window_evidence(w: Window, th: ArbitrageThresholds) -> dict[str, Any]:
    """What a person needs to see why the window fired (stored as evidence, read by should_fire)."""
    peak = w.peak
    where = f"event {w.event_id}" if w.kind.startswith("negrisk") else f"market {w.condition_id}"
    verb = "buying" if w.kind.endswith("ask") else "selling"
    summary = (
        f"{verb.capitalize()} every outcome of {where} earned {peak.edge:.4f} per set after fees "
        f"at the peak ({peak.fill.size:g} sets fillable, ${peak.fill.profit_after_fees:.2f} after fees)"
    )
    if w.suppressed_reason:
        summary += f"; held back: {w.suppressed_reason}"
    return {
        "summary": summary,
        "set_key": w.set_key,
        "condition_ids": sorted(set(w.condition_ids)),
        "peak_edge_after_fees": peak.edge,
        "peak_gross_edge": peak.gross_edge,
        "open_edge_after_fees": w.first.edge,
        "tops_at_peak": list(peak.tops),
        "fees_at_peak": peak.fill.fees,
        "observations": w.observations,
        "thresholds": {
            "min_edge": th.min_edge,
            "reaction_s": th.reaction_s,
            "max_stake_usdc": th.max_stake_usdc,
            "ghost_extreme": th.ghost_extreme,
            "ghost_min_usdc": th.ghost_min_usdc,
            "ghost_max_deviation": th.ghost_max_deviation,
        },
    }


def should_fire(evidence: Mapping[str, Any]) -> bool:
    """A stored window is consistent with its thresholds: its peak edge after fees reached min_edge."""
    return float(evidence["peak_edge_after_fees"]) >= float(evidence["thresholds"]["min_edge"])


def window_row(w: Window, th: ArbitrageThresholds) -> tuple:
    duration = (w.closed_at - w.opened_at).total_seconds() if w.closed_at else None
    return (
        w.signal_key,
        w.kind,
        w.condition_id,
        w.event_id,
        w.opened_at,
        w.closed_at,
        duration,
        w.peak.edge,
        w.peak_at,
        w.peak.fill.size,
        w.peak.fill.gross_profit,
        w.peak.fill.profit_after_fees,
        w.capturable_usdc,
        w.suppressed_reason,
        window_evidence(w, th),
    )


ROW_COLUMNS = (
    "signal_key",
    "kind",
    "condition_id",
    "event_id",
    "opened_at",
    "closed_at",
    "duration_s",
    "peak_edge",
    "peak_at",
    "fillable_size",
    "profit_at_peak",
    "profit_after_fees",
    "capturable_usdc",
    "suppressed_reason",
    "evidence",
)


SPEC = SignalSpec(
    signal_type="arbitrage",
    asset="arbitrage_windows",
    thresholds=ArbitrageThresholds,
    table="arbitrage_windows",
    label="Arbitrage windows",
    alert_title="Arbitrage window",
    time_column="opened_at",
    direction="none",
    aliases={"edge": "peak_edge", "usdc": "capturable_usdc", "profit": "profit_after_fees"},
    rule=should_fire,
    has_event=True,
    backtest=True,
)
