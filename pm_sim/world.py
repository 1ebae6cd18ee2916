"""The seeded world: events, markets, tokens, wallets and price paths.

Everything time-dependent is a pure function of (seed, market, time) so any clock position can be
served without replaying history; see books.py and trades.py for the order book and trade flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import flowfit
from .config import SimConfig
from .rng import h, hex_id, u01

V2_LAUNCH = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
VERSIONLESS_BEFORE = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
RAMP = 6 * 3600.0  # prices converge to the winner over the last hours before close
# A market's reported daily volume: its expected fills per day x the mean fill of the fitted size distribution
# (pm_sim.flowfit.mean_fill_usdc(), rounded; the sizes are real ones, so is the volume).
USD_PER_FILL = 154.0
SIBLING_MAX_LAG = 2.6  # seconds (real-flow.md, set D)
WORDS = (
    "alpha",
    "bravo",
    "delta",
    "echo",
    "nova",
    "orbit",
    "pulse",
    "quartz",
    "raven",
    "solar",
    "terra",
    "vortex",
    "zephyr",
    "ember",
    "falcon",
    "glacier",
    "harbor",
    "ion",
    "jade",
    "krypton",
)
TOPICS = (
    "Bitcoin above {k}k on Dec 31?",
    "Will {w} win the {y} election?",
    "Fed cuts rates in {m}?",
    "Will {w} release before {m}?",
    "Team {w} wins the {y} final?",
    "Will {w} reach {k}M users?",
)
TAGS = ((2, "Politics"), (21, "Crypto"), (100639, "Sports"), (120, "Finance"), (596, "Culture"))
# Gamma tags an event with its category and one or two narrower tags (real events carry 3-7; the category
# tag is the one users filter by). Ids and slugs are Gamma's where we know them.
SUB_TAGS = {
    "Politics": ((144, "Elections"), (1101, "US Election"), (100265, "Geopolitics")),
    "Crypto": ((235, "Bitcoin"), (1312, "Crypto Prices"), (39, "Ethereum")),
    "Sports": ((745, "NBA"), (100350, "Soccer"), (450, "NFL")),
    "Finance": ((100196, "Fed Rates"), (100328, "Economy"), (604, "Stocks")),
    "Culture": ((53, "Movies"), (1401, "Tech"), (100, "Music")),
}
# The category each TOPICS entry belongs to (a title and its tags agree), and the narrower tags it may carry.
TOPIC_TAGS = (
    ("Crypto", ("Bitcoin", "Crypto Prices")),
    ("Politics", ("Elections", "US Election")),
    ("Finance", ("Fed Rates", "Economy")),
    ("Culture", ("Movies", "Music")),
    ("Sports", ("NBA", "NFL", "Soccer")),
    ("Culture", ("Tech",)),
)
# Recurring events belong to a Gamma series (sports seasons, daily crypto prices); others have none.
SERIES = {
    "NBA": ("10345", "nba-2026", "NBA 2026"),
    "NFL": ("10187", "nfl-2026", "NFL 2026"),
    "Crypto Prices": ("10192", "btc-up-or-down-daily", "BTC Up or Down Daily"),
}


@dataclass(slots=True)
class Market:
    idx: int
    id: str
    event_idx: int
    question: str
    slug: str
    condition_id: str  # 66-char form used by CLOB, WS, Data API
    gamma_condition_id: str  # 62-hex on v2 markets
    question_id: str
    token_ids: list[str]
    outcomes: list[str]
    version: str | None
    neg_risk: bool
    neg_risk_market_id: str | None
    neg_risk_other: bool
    has_book: bool
    position_ids: list[str] | None
    tick: float
    tick_change_at: float | None
    fee_schedule: dict | None
    created_at: float
    close_time: float
    end_date: float
    weight: float  # share of trade flow
    logit: float
    amps: tuple
    spread_ticks: int
    depth: int
    ghost: bool
    book_period: float
    book_phase: float
    winner: int  # outcome index that wins at close (binary) / 0 if this negRisk leg wins else 1
    tag: tuple
    outcome_in_event: int = 0
    dispute: str = ""  # "", "disputed", "arbitrated", "extended_review"
    # The second token's book shows each update this much later than the first's (real books of a market's two
    # tokens arrive at different moments; real-flow.md: the sibling's latest snapshot is up to 2.6 s old).
    sibling_lag: float = 0.0


@dataclass(slots=True)
class Event:
    idx: int
    id: str
    slug: str
    title: str
    neg_risk: bool
    augmented: bool
    neg_risk_market_id: str | None
    markets: list[int] = field(default_factory=list)
    other_logit: float = -9.0
    winner: int = 0  # index into markets; len(markets) => hidden "Other" wins


class World:
    def __init__(self, cfg: SimConfig):
        self.cfg = cfg
        self.seed = cfg.seed
        self.start = cfg.start
        self.history_start = cfg.start - cfg.history_hours * 3600
        self.horizon_end = cfg.start + cfg.horizon_hours * 3600
        self.markets: list[Market] = []
        self.events: list[Event] = []
        self.by_token: dict[str, tuple[int, int]] = {}
        self.by_condition: dict[str, int] = {}
        self.by_gamma_id: dict[str, int] = {}
        self.by_slug: dict[str, int] = {}
        self.event_by_id: dict[str, int] = {}
        self.event_by_slug: dict[str, int] = {}
        self.n_wallets = int(min(200_000, max(2000, cfg.markets * 20)))
        # Fresh wallets (pm_sim.flowfit) are born on a grid from a day before the history on.
        self.fresh_dt = flowfit.fresh_dt(cfg.trades_per_second)
        self.fresh_t0 = self.history_start - 86_400
        # Planted overlays, filled by ground_truth.plant(): market idx -> list of windows.
        self.spikes: dict[int, list] = {}
        self.volume_spikes: dict[int, list] = {}
        self.arb_windows: dict[int, list] = {}
        self._build()

    # ---------------------------------------------------------------- construction
    def _build(self) -> None:
        s = self.seed
        n = self.cfg.markets
        e = 0
        while len(self.markets) < n:
            r = u01(s, 10, e)
            if r < 0.12 and n - len(self.markets) >= 3:
                k = 3 + int(u01(s, 11, e) * 6)
                k = min(k, n - len(self.markets))
                self._make_event(e, k, neg_risk=True, augmented=u01(s, 12, e) < 0.3)
            else:
                self._make_event(e, 1, neg_risk=False, augmented=False)
            e += 1
        # Book-update cadence: ws_rate price_change messages per second across the world.
        rate = max(self.cfg.ws_rate, 1e-3)
        total_w = 0.0
        for m in self.markets:
            m.book_period = min(3600.0, max(0.05, n / rate * (0.5 + u01(s, 40, m.idx))))
            m.sibling_lag = min(SIBLING_MAX_LAG, m.book_period) * (0.2 + 0.75 * u01(s, 56, m.idx))
            total_w += m.weight
        self.total_weight = total_w

    def _make_event(self, e: int, k: int, neg_risk: bool, augmented: bool) -> None:
        s = self.seed
        v2 = u01(s, 13, e) < self.cfg.v2_fraction and not self.cfg.legacy
        t0 = self.start
        if v2:
            created = V2_LAUNCH + u01(s, 14, e) * (t0 + 6 * 3600 - V2_LAUNCH)
        elif u01(s, 15, e) < 0.4:
            created = t0 - 3600 * 24 * (200 + 400 * u01(s, 16, e))  # old rows: no version key
        else:
            created = VERSIONLESS_BEFORE + u01(s, 16, e) * (V2_LAUNCH - VERSIONLESS_BEFORE - 86400)
        # A few markets appear during the run (ws new_market).
        if u01(s, 17, e) < 0.04:
            created = t0 + u01(s, 18, e) * self.cfg.horizon_hours * 3600 * 0.5
        r = u01(s, 19, e)
        span = (self.cfg.history_hours + self.cfg.horizon_hours) * 3600
        if r < 0.08:
            close = self.history_start - 86400 * (1 + 30 * u01(s, 20, e))
            created = min(created, close - 86400 * 10)
        elif r < 0.33:
            close = max(created + 7200, self.history_start + 3600 + u01(s, 20, e) * (span - 3600))
        else:
            close = t0 + 86400 * (30 + 700 * u01(s, 20, e))
        w = self._words(e)
        eid = str(30000 + e)
        title = (
            TOPICS[h(s, 22, e) % len(TOPICS)].format(
                w=w,
                k=50 + h(s, 23, e) % 150,
                y=2027,
                m="March",
            )
            if not neg_risk
            else f"{w} winner 2027"
        )
        slug = _slug(title) + f"-{e}"
        nrm = None
        if neg_risk:
            nrm = "0x" + (("02" if v2 else "") + hex_id(32, s, 24, e))[:62] + "00"
        ev = Event(e, eid, slug, title, neg_risk, augmented, nrm)
        self.events.append(ev)
        self.event_by_id[eid] = e
        self.event_by_slug[slug] = e
        tick = 0.01 if u01(s, 25, e) < 0.6 else (0.001 if u01(s, 26, e) < 0.93 else 0.0025)
        legs = k + (1 if augmented else 0)
        ev.winner = h(s, 27, e) % legs
        ev.other_logit = -1.5 - u01(s, 28, e)
        for i in range(legs):
            other = augmented and i == k
            self._make_market(ev, i, v2, created, close, tick, w, other)

    def _make_market(
        self, ev: Event, i: int, v2: bool, created: float, close: float, tick: float, w: str, other: bool
    ) -> None:
        s = self.seed
        idx = len(self.markets)
        if ev.neg_risk:
            name = "Other" if other else f"{WORDS[(h(s, 30, idx)) % len(WORDS)].title()} {idx}"
            question = f"Will {name} win {ev.title}?"
            outcomes = ["Yes", "No"]
        else:
            question = ev.title
            outcomes = ["Yes", "No"] if u01(s, 31, idx) < 0.8 else ["Up", "Down"]
        if v2:
            module = "02" if ev.neg_risk else "01"
            gcid = "0x" + module + hex_id(30, s, 32, idx)
            cid = gcid + "00"
            base = int(gcid[2:], 16) << 8
            tokens = [str(base), str(base + 1)]
            pos = tokens
        else:
            cid = gcid = "0x" + hex_id(32, s, 32, idx)
            tokens = [str(int(hex_id(32, s, 33, idx, j), 16)) for j in (0, 1)]
            pos = None
        has_book = not other
        version: str | None = "v2" if v2 else ("v1" if created >= VERSIONLESS_BEFORE else None)
        if not v2 and u01(s, 34, idx) < 0.02:
            # A CTF leg of a V2 workflow: carries positionIds but has no CLOB book.
            pos = [str(int(hex_id(32, s, 35, idx, j), 16)) for j in (0, 1)]
            has_book = False
        qid = ev.neg_risk_market_id[:-2] + f"{i:02x}" if ev.neg_risk else "0x" + hex_id(32, s, 36, idx)
        fee = None
        if u01(s, 37, idx) < 0.7:
            fee = {
                "exponent": 1 if u01(s, 38, idx) < 0.5 else 2,
                "rate": (0.02, 0.04, 0.07)[h(s, 39, idx) % 3],
                "takerOnly": True,
                "rebateRate": 0.25 if u01(s, 41, idx) < 0.5 else 0,
            }
        weight = math.exp(1.8 * _gauss(s, 42, idx))  # heavy-tailed activity: a few markets dominate
        ghost = has_book and u01(s, 43, idx) < 0.03
        if ghost:
            weight *= 0.02
            tick = 0.01
        tick_change_at = None
        if tick == 0.01 and not ghost and not ev.neg_risk and u01(s, 44, idx) < 0.04:
            tick_change_at = self.start + u01(s, 45, idx) * self.cfg.horizon_hours * 3600 * 0.5
        if ev.neg_risk:
            winner = 0 if ev.winner == i else 1
        else:
            winner = 0 if u01(s, 46, idx) < 0.5 else 1
        dispute = ""
        r = u01(s, 47, idx)
        if r < 0.04:
            dispute = "disputed"
        elif r < 0.06:
            dispute = "arbitrated"
        elif r < 0.08:
            dispute = "extended_review"
        slug = _slug(question)[:60] + f"-{idx}"
        m = Market(
            idx=idx,
            id=str(500000 + idx),
            event_idx=ev.idx,
            question=question,
            slug=slug,
            condition_id=cid,
            gamma_condition_id=gcid,
            question_id=qid,
            token_ids=tokens,
            outcomes=outcomes,
            version=version,
            neg_risk=ev.neg_risk,
            neg_risk_market_id=ev.neg_risk_market_id,
            neg_risk_other=other,
            has_book=has_book,
            position_ids=pos,
            tick=tick,
            tick_change_at=tick_change_at,
            fee_schedule=fee,
            created_at=created,
            close_time=close,
            end_date=max(close, created + 86400) if close > self.start else close,
            weight=weight,
            logit=(_gauss(s, 48, idx) * 1.6 if not other else ev.other_logit),
            amps=_amps(s, idx),
            spread_ticks=1 + h(s, 52, idx) % 3,
            depth=6 + h(s, 53, idx) % 10,
            ghost=ghost,
            book_period=1.0,
            book_phase=u01(s, 54, idx),
            winner=winner,
            tag=self.event_category(ev.idx, ev.neg_risk),
            outcome_in_event=i,
            dispute=dispute,
        )
        self.markets.append(m)
        ev.markets.append(idx)
        for j, t in enumerate(tokens):
            self.by_token[t] = (idx, j)
        self.by_condition[cid] = idx
        self.by_gamma_id[m.id] = idx
        self.by_slug[slug] = idx

    def event_category(self, e: int, neg_risk: bool) -> tuple:
        """(tag id, label) of the event's category: its topic's, or for negRisk 'winner' events any category."""
        if neg_risk:
            return TAGS[h(self.seed, 21, e) % len(TAGS)]
        label = TOPIC_TAGS[h(self.seed, 22, e) % len(TOPICS)][0]
        return next(t for t in TAGS if t[1] == label)

    def event_sub_tags(self, e: int) -> tuple[str, ...]:
        ev = self.events[e]
        if ev.neg_risk:
            return tuple(label for _, label in SUB_TAGS[self.markets[ev.markets[0]].tag[1]])
        return TOPIC_TAGS[h(self.seed, 22, e) % len(TOPICS)][1]

    def _words(self, e: int) -> str:
        return f"{WORDS[h(self.seed, 60, e) % len(WORDS)].title()} {WORDS[h(self.seed, 61, e) % len(WORDS)]}"

    # ---------------------------------------------------------------- time-dependent state
    def is_open(self, m: Market, t: float) -> bool:
        return m.created_at <= t < m.close_time

    def tick_at(self, m: Market, t: float) -> float:
        if m.tick_change_at is not None and t >= m.tick_change_at:
            return 0.001
        return m.tick

    def _raw_logit(self, m: Market, t: float) -> float:
        x = m.logit
        for a, w, ph in m.amps:
            x += a * math.sin(w * t + ph)
        x += self.spike_logit(m.idx, t)
        left = m.close_time - t
        if left < RAMP:
            x += (9.0 if m.winner == 0 else -9.0) * (1 - max(left, 0) / RAMP) ** 2
        return x

    def price(self, m: Market, t: float) -> float:
        """Probability of outcome 0 (YES) at time t."""
        if t >= m.close_time:
            return 1.0 if m.winner == 0 else 0.0
        if m.neg_risk:
            ev = self.events[m.event_idx]
            zs = [self._raw_logit(self.markets[j], t) for j in ev.markets]
            mx = max(zs)
            ex = [math.exp(z - mx) for z in zs]
            return ex[ev.markets.index(m.idx)] / sum(ex)
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, self._raw_logit(m, t)))))

    def spike_logit(self, idx: int, t: float) -> float:
        """Planted price spikes (filled in by ground_truth.plant)."""
        for start, end, amp in self.spikes.get(idx, ()):
            if start <= t < end:
                return amp
        return 0.0

    # ---------------------------------------------------------------- wallets
    def wallet_address(self, widx: int) -> str:
        if widx >= flowfit.FRESH_BASE:
            return flowfit.fresh_address(self.seed, widx)
        return "0x" + hex_id(20, self.seed, 70, widx)

    def is_planted_wallet(self, widx: int) -> bool:
        return self.n_wallets <= widx < flowfit.FRESH_BASE

    def wallet_created(self, widx: int) -> float:
        """Background wallets: old ones (idx < n_wallets) exist from long before the history; fresh ones
        (pm_sim.flowfit) are born on the fresh grid, 0-24 h before their fills."""
        if widx >= flowfit.FRESH_BASE:
            return self.fresh_t0 + (widx - flowfit.FRESH_BASE) * self.fresh_dt
        return self.history_start - 86400 * (1 + 400 * u01(self.seed, 73, widx))

    def wallet_first_activity(self, widx: int) -> float | None:
        """When any wallet (old, fresh or planted) first acted: its creation."""
        if self.is_planted_wallet(widx):
            return self.planted_wallet_created.get(widx)
        return self.wallet_created(widx)

    def daily_volume_usdc(self, m: Market) -> float:
        """The market's reported 24 h volume (Gamma `volume24hr`): its expected fills a day x the mean fill."""
        return m.weight / self.total_weight * self.cfg.trades_per_second * 86400 * USD_PER_FILL

    def open_markets(self, t: float) -> list[Market]:
        return [m for m in self.markets if self.is_open(m, t) and m.has_book]


def _amps(s: int, idx: int) -> tuple:
    """Three sines (logit amplitude, angular frequency, phase) of a market's background drift.

    The amplitude grows with the square root of the period, as a random walk's range does: a day-long
    swing may move a market tens of points, a 10-minute wiggle moves it well under one point. (Equal
    amplitudes at every period made ordinary markets swing 10+ points every few minutes, which real
    books do not, and drowned the planted spikes.)
    """
    out = []
    for j in range(3):
        period = 600 + 170000 * u01(s, 50, idx, j)
        amp = (0.05 + 0.4 * u01(s, 49, idx, j)) * min(1.0, math.sqrt(period / 86400))
        out.append((amp, 2 * math.pi / period, 6.283 * u01(s, 51, idx, j)))
    return tuple(out)


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def _gauss(*keys: int) -> float:
    u1 = max(u01(*keys, 1), 1e-12)
    u2 = u01(*keys, 2)
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
