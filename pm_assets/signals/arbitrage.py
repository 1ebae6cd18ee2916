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

One consistent instant (real books, issue 16): a set's legs are only comparable when their books describe the
same moment. A snapshot's top of book is known to hold from the snapshot that first showed it to the latest one
that re-read it (a book kept by the stream's deltas is current: a live subscription). An observation counts only
when the spans of the two halves of each market's book (a binary pair) meet within `max_leg_skew_ms` (a negRisk
set's legs are separate markets, each kept current by its own stream, so they are not compared with each other)
and no leg's own book is crossed (bid >= ask inside one snapshot, a recording or matching artefact). A binary
market's two books are one book seen from both sides (Up ask = 1 - Down bid): the evidence reads them that way.
A window never seen in a consistent instant is kept suppressed as `crossed_book` or `stale_leg`; one whose
consistent part lasted less than `reaction_s` is kept as `not_capturable`; neither is ever alerted.
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
    max_leg_skew_ms: float = threshold(
        250.0,
        "a binary market's two books count as one instant only when observed within this many ms of each "
        "other; a window never seen so is kept as stale_leg, never alerted",
        ge=0.0,
        le=60_000.0,
        name="arbitrage_max_leg_skew_ms",
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
    leg_skew_ms: float | None = None  # oldest vs newest leg observation; None: not known
    crossed: str | None = None  # the first leg whose own book is crossed, in words
    one_book: dict[str, float] | None = None  # binary: both books read as one (Up ask vs 1 - Down bid)

    def consistent(self, th: ArbitrageThresholds) -> bool:
        """Every leg observed within the skew and no leg's own book crossed: one instant, one real book."""
        return (
            self.crossed is None and self.leg_skew_ms is not None and self.leg_skew_ms <= th.max_leg_skew_ms
        )


def crossed_reason(
    legs: Sequence[Leg], books: Mapping[str, tuple[Sequence[Level], Sequence[Level]]]
) -> str | None:
    """`crossed_book: ...` when a leg's own snapshot has its best bid at or above its best ask, else None."""
    for leg in legs:
        bids, asks = books.get(leg.token_id, ((), ()))
        if bids and asks and bids[0][0] >= asks[0][0]:
            return f"crossed_book: token {leg.token_id[:12]} bid {bids[0][0]:g} >= ask {asks[0][0]:g}"
    return None


def leg_skew_ms(
    legs: Sequence[Leg],
    books: Mapping[str, Any],
    observed_at: Mapping[str, tuple[datetime, datetime]],
    at: datetime,
) -> float | None:
    """How far apart, in ms, the two halves of one market's book (a binary pair) are known to have held their
    current tops: 0 when their spans (first shown, last re-read) overlap; else the gap between the newest half's
    first showing and the oldest half's last reading.

    A binary market's two books are one book: a half that moved while its sibling was not re-read since is proof
    the sibling is stale. A negRisk set's legs are separate markets whose books change independently (the stream
    keeps a quiet one current), so only legs of the same market are compared."""
    by_market: dict[str, list[tuple[datetime, datetime]]] = {}
    for leg in legs:
        if leg.token_id in books:
            by_market.setdefault(leg.condition_id, []).append(observed_at.get(leg.token_id, (at, at)))
    if not by_market:
        return None
    gaps = [
        max(s for s, _ in spans) - min(e for _, e in spans) for spans in by_market.values() if len(spans) > 1
    ]
    return round(max([0.0, *(g.total_seconds() * 1000.0 for g in gaps)]), 3)


def one_book(
    legs: Sequence[Leg], books: Mapping[str, tuple[Sequence[Level], Sequence[Level]]]
) -> dict | None:
    """A binary market's two books as the one book they are: each side's direct top and its mirror from the
    sibling (Up ask vs 1 - Down bid, Up bid vs 1 - Down ask). Mirrors agree when both snapshots are one instant."""
    if len(legs) != 2 or any(leg.token_id not in books for leg in legs):
        return None
    (ub, ua), (db, da) = (books[leg.token_id] for leg in legs)
    out: dict[str, float] = {}
    if ua:
        out["up_ask"] = ua[0][0]
    if db:
        out["up_ask_mirror"] = round(1.0 - db[0][0], 6)
    if ub:
        out["up_bid"] = ub[0][0]
    if da:
        out["up_bid_mirror"] = round(1.0 - da[0][0], 6)
    return out


def evaluate_set(
    arb: ArbSet,
    books: Mapping[str, tuple[Sequence[Level], Sequence[Level]]],
    ref_prices: Mapping[str, float],
    markets: Mapping[str, Any],
    at: datetime,
    th: ArbitrageThresholds,
    observed_at: Mapping[str, tuple[datetime, datetime]] | None = None,
) -> dict[str, Evaluation]:
    """The kinds of this set whose top edge after fees reaches min_edge at `at`, with trap verdicts.

    A leg whose book is unknown (never seen, 404) makes the binary set unknown (nothing fires); for a negRisk
    set it makes the set incomplete (fires suppressed, never as arbitrage). `observed_at` is, per leg, the span
    (first shown, last re-read) over which its top of book is known to have held (default: `at` for every leg).
    """
    out: dict[str, Evaluation] = {}
    missing = [leg for leg in arb.legs if leg.token_id not in books]
    if missing and arb.mode == "binary":
        return out
    skew = leg_skew_ms(arb.legs, books, observed_at or {}, at)
    crossed = crossed_reason(arb.legs, books)
    mirror = one_book(arb.legs, books) if arb.mode == "binary" else None
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
            skew,
            crossed,
            mirror,
        )
    return out


@dataclass
class Window:
    set_key: str
    kind: str
    condition_id: str | None
    event_id: str | None
    opened_at: datetime
    suppressed_reason: str | None  # the trap reason while open; settled (stale, crossed, short) at close
    peak: Evaluation
    peak_at: datetime
    first: Evaluation
    last: Evaluation
    closed_at: datetime | None = None
    capturable_usdc: float | None = None
    observations: int = 1
    condition_ids: tuple[str, ...] = ()
    trap_reason: str | None = (
        None  # what evaluate_set said (ghost, held, incomplete): a change closes the window
    )
    consistent_observations: int = 0
    consistent_since: datetime | None = None
    crossed: str | None = None  # the first crossed-book reading seen
    max_leg_skew_ms: float | None = None

    @property
    def signal_key(self) -> str:
        raw = f"arbitrage_windows|{self.kind}|{self.set_key}|{self.opened_at.isoformat()}"
        return sha1(raw.encode()).hexdigest()

    def consistent_seconds(self, until: datetime | None) -> float | None:
        """How long the window held in consistent instants (first consistent observation to close/now)."""
        if self.consistent_since is None or until is None:
            return None
        return (until - self.consistent_since).total_seconds()


def settled_reason(w: Window, until: datetime | None, th: ArbitrageThresholds) -> str | None:
    """Why a window is not alerted, from its whole life: its trap, no consistent instant, or too short to act on."""
    if w.trap_reason is not None:
        return w.trap_reason
    if w.consistent_observations == 0:
        if w.crossed is not None:
            return w.crossed
        skew = "unknown" if w.max_leg_skew_ms is None else f"{w.max_leg_skew_ms / 1000:.3g} s"
        return f"stale_leg: legs' books never observed within {th.max_leg_skew_ms:g} ms of each other (up to {skew})"
    lasted = w.consistent_seconds(until)
    if lasted is None or lasted < th.reaction_s:
        still = " so far" if w.closed_at is None else ""
        return (
            f"not_capturable: lasted {lasted or 0:.3g} s{still}, under the {th.reaction_s:g} s reaction time"
        )
    return None


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
            if current is not None and (ev is None or ev.suppressed_reason != current.trap_reason):
                self._close(current, at)
                current = None
            if ev is None:
                continue
            if current is None:
                current = self.open[(arb.key, kind)] = Window(
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
                    trap_reason=ev.suppressed_reason,
                    observations=0,
                )
            else:
                self._settle_capture(current, at)
            self._add(current, ev, at)

    def _add(self, w: Window, ev: Evaluation, at: datetime) -> None:
        w.last = ev
        w.observations += 1
        if ev.leg_skew_ms is not None:
            w.max_leg_skew_ms = max(w.max_leg_skew_ms or 0.0, ev.leg_skew_ms)
        if ev.crossed is not None and w.crossed is None:
            w.crossed = ev.crossed
        if not ev.consistent(self.thresholds):
            if w.consistent_observations == 0 and ev.edge > w.peak.edge:
                w.peak, w.peak_at = ev, at
            return
        # The peak a person reads is a consistent instant's once there is one.
        if w.consistent_observations == 0 or ev.edge > w.peak.edge:
            w.peak, w.peak_at = ev, at
        if w.consistent_since is None:
            w.consistent_since = at
        w.consistent_observations += 1

    def _settle_capture(self, w: Window, at: datetime) -> None:
        # The state that held `reaction_s` after the open is the last one seen before a tick later than that.
        if w.capturable_usdc is None and at > w.opened_at + timedelta(seconds=self.thresholds.reaction_s):
            w.capturable_usdc = max(0.0, w.last.capturable_fill.profit_after_fees)

    def _close(self, w: Window, at: datetime) -> None:
        self._settle_capture(w, at)
        if w.capturable_usdc is None:
            w.capturable_usdc = 0.0
        w.closed_at = at
        w.suppressed_reason = settled_reason(w, at, self.thresholds)
        self.done.append(w)
        del self.open[(w.set_key, w.kind)]

    def windows(self, now: datetime | None = None) -> list[Window]:
        """Closed windows plus still-open ones (closed_at None; capture settled if `now` is late enough)."""
        still = []
        for w in self.open.values():
            w = replace(w)
            if now is not None:
                self._settle_capture(w, now)
            w.suppressed_reason = settled_reason(w, now, self.thresholds)
            still.append(w)
        return [*self.done, *still]


class BookState:
    """Books replayed from stored ticks: snapshots replace, price changes set a level's absolute size."""

    def __init__(self) -> None:
        self.bids: dict[str, dict[float, float]] = {}
        self.asks: dict[str, dict[float, float]] = {}
        self.snapshot_at: dict[str, datetime] = {}
        self.tops: dict[str, tuple] = {}
        self.tops_since: dict[str, datetime] = {}  # when the token's current top prices first appeared
        self.streamed: set[str] = set()  # tokens kept by deltas: their book is current between changes

    def snapshot(
        self,
        token_id: str,
        bids: Iterable[Mapping[str, Any]],
        asks: Iterable[Mapping[str, Any]],
        at: datetime | None = None,
    ) -> None:
        self.bids[token_id] = {float(x["price"]): float(x["size"]) for x in bids if float(x["size"]) > 0}
        self.asks[token_id] = {float(x["price"]): float(x["size"]) for x in asks if float(x["size"]) > 0}
        if at is not None:
            self.snapshot_at[token_id] = at
            tops = (max(self.bids[token_id], default=None), min(self.asks[token_id], default=None))
            if self.tops.get(token_id) != tops or token_id not in self.tops_since:
                self.tops[token_id], self.tops_since[token_id] = tops, at

    def held(self, token_id: str, at: datetime) -> tuple[datetime, datetime]:
        """The span over which the token's current top of book is known to have held: from the snapshot that
        first showed it to the latest snapshot that re-read it (now, for a book kept by the stream's deltas)."""
        if token_id in self.streamed:
            return self.tops_since.get(token_id, at), at
        seen = self.snapshot_at.get(token_id, at)
        return min(self.tops_since.get(token_id, seen), seen), seen

    def change(self, token_id: str, side: str, price: float, size: float) -> None:
        if token_id not in self.bids:
            return  # a delta without a snapshot leaves the book unknown
        self.streamed.add(token_id)
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
                # A market whose books arrive as deltas is on a live subscription: both halves are current.
                live = {leg.condition_id for leg in arb.legs if leg.token_id in state.streamed}
                seen = {
                    leg.token_id: (at, at) if leg.condition_id in live else state.held(leg.token_id, at)
                    for leg in arb.legs
                    if leg.token_id in books
                }
                tracker.observe(arb, at, evaluate_set(arb, books, refs, markets, at, th, seen))
        dirty.clear()

    for tick in ticks:
        if current is not None and tick.at != current:
            flush(current)
        current = tick.at
        if tick.kind == "trade":
            refs[tick.token_id] = tick.price
            continue
        if tick.kind == "book":
            state.snapshot(tick.token_id, tick.bids, tick.asks, tick.at)
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
    until = w.closed_at
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
        "consistent_observations": w.consistent_observations,
        "consistent_seconds": w.consistent_seconds(until),
        "leg_skew_ms_at_peak": peak.leg_skew_ms,
        "max_leg_skew_ms_seen": w.max_leg_skew_ms,
        "crossed_book": w.crossed,
        "one_book_at_peak": peak.one_book,
        "thresholds": {
            "min_edge": th.min_edge,
            "reaction_s": th.reaction_s,
            "max_stake_usdc": th.max_stake_usdc,
            "ghost_extreme": th.ghost_extreme,
            "ghost_min_usdc": th.ghost_min_usdc,
            "ghost_max_deviation": th.ghost_max_deviation,
            "max_leg_skew_ms": th.max_leg_skew_ms,
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


def evaluate(log, warehouse, config):
    """The asset's work (market_assets.arbitrage_windows), callable outside a run (the live run's periodic task,
    pm_sensors/live/periodic.py); `log` has `.info`, `config` the asset's Launchpad config. Returns a
    dg.MaterializeResult."""
    from pm_assets.signals.market_runs import materialize_arbitrage, run_market_signal

    return run_market_signal(log, warehouse, SPEC, config, materialize_arbitrage)


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
