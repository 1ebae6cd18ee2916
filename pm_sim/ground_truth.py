"""Planted anomalies and noise, with their ground truth (shape documented in README.md)."""

from __future__ import annotations

import math

import numpy as np

from . import flowfit
from .books import nticks, yes_tops
from .clock import iso
from .rng import h, u01
from .trades import TradeFlow, tx_hash
from .world import RAMP, Market, World

PLANT_BASE = 1_000_000  # planted fills get jj = 2 * (PLANT_BASE + k): unique, sorts after background


class Planter:
    def __init__(self, world: World, flow: TradeFlow):
        self.w = world
        self.f = flow
        self.s = world.seed
        self.records: list[dict] = []
        self.k = 0
        self.next_wallet = world.n_wallets
        world.planted_wallet_created = {}

    # ------------------------------------------------------------ helpers
    def _u(self, *keys: int) -> float:
        return u01(self.s, 300, *keys)

    def _time(self, *keys: int, lo_pad: float = 900, hi_pad: float = 900) -> float:
        lo, hi = self.w.history_start + lo_pad, self.w.horizon_end - hi_pad
        return lo + self._u(*keys) * (hi - lo)

    def _market(
        self,
        t: float,
        *keys: int,
        thin: bool = False,
        binary_only: bool = False,
        busy: bool = False,
        mid_price: bool = False,
        undisputed: bool = False,
        longshot: bool = False,
    ) -> Market | None:
        """A random market open around t (sampled, so planting stays cheap at 50k markets).

        thin: the quietest of 8 candidates; busy: the most traded of 8; mid_price: YES between 0.2 and 0.8
        and not yet converging to its winner (so a planted move is a clear move in points); undisputed: a market
        whose resolution will not be disputed (signals on a disputed market are held back by design, so a true
        alertable event planted there would be one no detector should alert); longshot: one outcome priced
        0.03-0.35 (a clear favourite against it), more than the ramp's hours before close.
        """
        ms = self.w.markets
        found: list[Market] = []
        for k in range(400):
            m = ms[h(self.s, 301, *keys, k) % len(ms)]
            if (
                m.has_book
                and not m.ghost
                and m.created_at < t - 3600
                and m.close_time > t + 3 * 3600
                and (not binary_only or not m.neg_risk)
                and not (undisputed and m.dispute)
                and (not mid_price or (m.close_time > t + RAMP + 3600 and 0.2 <= self.w.price(m, t) <= 0.8))
                and (
                    not longshot
                    or (m.close_time > t + RAMP and 0.03 <= min(p := self.w.price(m, t), 1 - p) <= 0.35)
                )
            ):
                found.append(m)
                if len(found) >= (8 if thin or busy else 1):
                    break
        if not found:
            return None
        if busy:
            return max(found, key=lambda m: m.weight)
        return min(found, key=lambda m: m.weight) if thin else found[0]

    def _buyable_outcome(self, m: Market, t: float, oc: int) -> int:
        """The outcome an insider would buy: never one already priced as a near-certainty (>= 0.9), which is a
        settlement sweep that detectors hold back by design, so a true event planted there could not be alerted."""
        yes = self.w.price(m, t)
        return oc if (yes if oc == 0 else 1 - yes) < 0.9 else 1 - oc

    def _span(self) -> float:
        return self.w.horizon_end - self.w.history_start

    def _wallet(self, created: float) -> int:
        wi = self.next_wallet
        self.next_wallet += 1
        self.w.planted_wallet_created[wi] = created
        return wi

    def _fill(
        self, t: float, m: Market, wallet: int, side: int, outcome: int, usd: float, txk: int | None = None
    ) -> tuple:
        tick = self.w.tick_at(m, t)
        bb, ba = yes_tops(self.w, m, t, tick)
        n = nticks(tick)
        pidx = (ba if side == 0 else bb) if outcome == 0 else (n - bb if side == 0 else n - ba)
        price = round(pidx * tick, 4)
        size = round(usd / max(price, 0.01), 2)
        self.k += 1
        tk = txk if txk is not None else h(self.s, 302, self.k)
        row = (int(t * 1000), m.idx, 2 * (PLANT_BASE + self.k), wallet, side, outcome, size, price, tk, 20)
        self.f.add_planted(row)
        return row

    def _rec(
        self,
        kind: str,
        true_event: bool,
        start: float,
        end: float,
        m: Market | None = None,
        outcome: int | None = None,
        wallets: list[int] | None = None,
        rows: list[tuple] | None = None,
        **extra,
    ) -> None:
        rec = {
            "kind": kind,
            "true_event": true_event,
            "label": "event" if true_event else "noise",
            "start": iso(start),
            "end": iso(end),
            "start_ts": int(start),
            "end_ts": int(end),
            "condition_id": m.condition_id if m else None,
            "token_id": m.token_ids[outcome] if (m and outcome is not None) else None,
            "event_id": self.w.events[m.event_idx].id if m else None,
            "wallet": self.w.wallet_address(wallets[0]) if wallets else None,
            "wallets": [self.w.wallet_address(x) for x in wallets or []],
            "tx_hashes": sorted({tx_hash(self.s, r[8]) for r in rows or []}),
            "size_usdc": round(sum(r[6] * r[7] for r in rows or []), 2),
            "edge": None,
            "fillable_size": None,
        }
        rec.update(extra)
        self.records.append(rec)

    # ------------------------------------------------------------ plants
    def plant_all(self) -> list[dict]:
        n = max(3, min(len(self.w.markets) // 25, 150))
        # Price paths and pinned books first: a planted fill is priced from the book at its time, so one planted
        # inside a later-planted spike would print the pre-spike price (a stale print no real book allows).
        for i in range(n):
            self.price_spike(i)
        for i in range(max(2, n // 2)):
            self.negrisk_arb(i)
        # Insiders before the other fills: an insider's market may be set to resolve for the longshot it bought,
        # which moves that market's resolution ramp, and fills planted there earlier would print the old path.
        for i in range(n):
            self.fresh_insider(i)
        for i in range(n):
            self.coordinated(i)
            self.split_buy(i)
            self.volume_spike(i)
            self.binary_arb(i)
        self.settlement_sweeps()
        self.resolution_ramps()
        self.static_noise()
        self.records.sort(key=lambda r: (r["start_ts"], r["kind"]))
        return self.records

    def fresh_insider(self, i: int) -> None:
        """As the publicly reported cases: a wallet created hours before enters a longshot (against the favourite)
        with a size that real background flow also has (the top 1% of real fill sizes, never above the
        background's own tail), hours before the news; on a binary market it is then the winner."""
        t = self._time(1, i, lo_pad=13 * 3600 if self.w.cfg.history_hours > 14 else 900)
        m = self._market(t, 1, i, thin=i % 2 == 1, longshot=True) or self._market(t, 1, i, thin=i % 2 == 1)
        if m is None:
            return
        age = 3600 * (1 + 11 * self._u(2, i))
        created = max(t - age, self.w.history_start + 60)
        wi = self._wallet(created)
        other = self._market(created, 3, i) or m
        first = self._fill(created, other, wi, 0, 0, 5 + 20 * self._u(4, i))
        yes = self.w.price(m, t)
        oc = 0 if yes < 0.5 else 1  # the longshot
        if not m.neg_risk and m.close_time - RAMP > t:
            m.winner = oc  # the news: the market converges to it over its last hours
        usd = float(flowfit.fill_usdc(np.array([0.99 + 0.0095 * self._u(6, i)]))[0])
        big = self._fill(t, m, wi, 0, oc, usd)
        self._rec(
            "fresh_wallet_insider",
            True,
            t,
            t,
            m,
            oc,
            [wi],
            [big],
            thin_market=i % 2 == 1,
            wallet_first_activity=iso(created),
            wallet_first_activity_ts=int(created),
            wallet_age_hours=round((t - created) / 3600, 3),
            first_activity_tx=tx_hash(self.s, first[8]),
            entry_price=big[7],
            payoff=round((1 - big[7]) / max(big[7], 1e-9), 3),
            hours_to_close=round((m.close_time - t) / 3600, 3),
        )

    def coordinated(self, i: int) -> None:
        t = self._time(10, i)
        m = self._market(t, 10, i)
        if m is None:
            return
        oc = self._buyable_outcome(m, t, int(self._u(11, i) < 0.5))
        wallets, rows = [], []
        for k in range(3 + int(self._u(12, i) * 3)):
            created = max(t - 3600 * (1 + 5 * self._u(13, i, k)), self.w.history_start + 60)
            wi = self._wallet(created)
            self._fill(created, self._market(created, 14, i, k) or m, wi, 0, 0, 3 + 10 * self._u(15, i, k))
            wallets.append(wi)
            rows.append(
                self._fill(t + 600 * self._u(16, i, k), m, wi, 0, oc, 1000 + 7000 * self._u(17, i, k))
            )
        end = max(r[0] for r in rows) / 1000
        self._rec("coordinated_entry", True, min(r[0] for r in rows) / 1000, end, m, oc, wallets, rows)

    def split_buy(self, i: int) -> None:
        t = self._time(20, i)
        # The busiest of a few markets: splitting a buy is meant not to stand out, and 8-20 buys in an hour on a
        # quiet market would be a real volume burst, which the ground truth does not list as a volume spike.
        m = self._market(t, 20, i, busy=True)
        if m is None:
            return
        oc = self._buyable_outcome(m, t, int(self._u(21, i) < 0.5))
        wi = self._wallet(self.w.history_start - 86400 * 90)
        rows = [
            self._fill(t + 3500 * self._u(22, i, k), m, wi, 0, oc, 100 + 400 * self._u(23, i, k))
            for k in range(8 + int(12 * self._u(24, i)))
        ]
        self._rec(
            "split_buy",
            True,
            min(r[0] for r in rows) / 1000,
            max(r[0] for r in rows) / 1000,
            m,
            oc,
            [wi],
            rows,
            n_fills=len(rows),
        )

    def price_spike(self, i: int) -> None:
        # An hour in, so a detector has the market's own trailing moves to judge the spike against; a traded
        # mid-priced market, so the 1.5-3 logit jump is a move of 15+ points that trades show.
        t = self._time(30, i, lo_pad=min(3600, self._span() / 2))
        m = self._market(t, 30, i, binary_only=True, busy=True, mid_price=True, undisputed=True)
        if m is None:
            return
        dur = 300 + 900 * self._u(31, i)
        amp = (1.5 + 1.5 * self._u(32, i)) * (1 if self._u(33, i) < 0.5 else -1)
        before = self.w.price(m, t - 1)
        self.w.spikes.setdefault(m.idx, []).append((t, t + dur, amp))
        peak = self.w.price(m, t + 1)
        self._rec(
            "price_spike",
            True,
            t,
            t + dur,
            m,
            0,
            price_before=round(before, 4),
            price_peak=round(peak, 4),
            magnitude=round(peak - before, 4),
        )

    def volume_spike(self, i: int) -> None:
        # Two hours in (when the world is long enough): a volume z-score needs a baseline to stand on.
        t = self._time(40, i, lo_pad=min(2.25 * 3600, self._span() / 2))
        m = self._market(t, 40, i, undisputed=True)
        if m is None:
            return
        rows = []
        # A burst several times what the market normally trades in 15 minutes (40-120 fills on a quiet market):
        # in the busiest markets 40 extra fills would be ordinary flow, not a spike.
        usual = float(self.f.lam[m.idx]) * 900 / self.f.B
        # Many ordinary (old) wallets, each fill its own wallet while they last: a burst of trading, not one
        # wallet building a position (that would be a size anomaly the ground truth does not list).
        first = h(self.s, 42, i) % 970
        for k in range(min(2000, 40 + int(80 * self._u(41, i)) + int(3 * usual))):
            wi = 30 + (first + 3 * k) % 970
            rows.append(
                self._fill(
                    t + 300 * self._u(43, i, k),
                    m,
                    wi,
                    int(self._u(44, i, k) < 0.3),
                    int(self._u(45, i, k) < 0.5),
                    50 + 950 * self._u(46, i, k),
                )
            )
        self._rec("volume_spike", True, t, t + 300, m, None, None, rows, n_fills=len(rows))

    def binary_arb(self, i: int) -> None:
        t = self._time(50, i)
        m = self._market(t, 50, i, binary_only=True, undisputed=True)
        if m is None:
            return
        dur = 120 + 480 * self._u(51, i)
        fill = round(50 + 450 * self._u(53, i), 2)
        tick = self.w.tick_at(m, t)
        bb, ba = yes_tops(self.w, m, t, tick)

        def after_fees(ticks: int) -> tuple[float, float, float]:
            ya, na = ba * tick, 1 - bb * tick - (ba - bb + ticks) * tick
            return ticks * tick - _fee(m, ya) - _fee(m, na), ya, na

        # A true window pays comfortably after both legs' taker fees (0.8-2 cents a set, 4-10x the detector's
        # default min edge). Every fourth window on a fee market is one tick wide instead, which the fees eat:
        # planted noise that a detector must not alert.
        fee_eaten = i % 4 == 3 and m.fee_schedule is not None and after_fees(1)[0] <= 0
        target = 0.008 + 0.012 * self._u(52, i)
        edge_ticks = 1
        while not fee_eaten and after_fees(edge_ticks)[0] < target and ba + edge_ticks < nticks(tick) - 2:
            edge_ticks += 1
        net, ya, na = after_fees(edge_ticks)
        if not fee_eaten and net < target:
            return  # YES already near 1: no room for a clear window
        w = {"mode": "binary", "start": t, "end": t + dur, "edge_ticks": edge_ticks, "fillable_size": fill}
        self.w.arb_windows.setdefault(m.idx, []).append(w)
        self._rec(
            "fee_eaten_arbitrage" if fee_eaten else "arbitrage_binary",
            not fee_eaten,
            t,
            t + dur,
            m,
            0,
            edge=round(edge_ticks * tick, 6),
            edge_after_fees=round(net, 6),
            fillable_size=fill,
            yes_ask_at_start=round(ya, 4),
            no_ask_at_start=round(na, 4),
            note="book epochs snap the window to each book's update times",
        )

    def negrisk_arb(self, i: int) -> None:
        t = self._time(60, i)
        evs = [
            e
            for e in self.w.events
            if e.neg_risk
            and not e.augmented
            and all(
                self.w.markets[j].created_at < t - 3600
                and self.w.markets[j].close_time > t + 3 * 3600
                and not self.w.markets[j].dispute
                for j in e.markets
            )
        ]
        if not evs:
            return
        ev = evs[h(self.s, 61, i) % len(evs)]
        legs = [self.w.markets[j] for j in ev.markets]
        if any(x.idx in self.w.arb_windows for x in legs):
            return
        # A leg without a book (or with a ghost book) cannot be bought: the set is not tradable, so the cheap
        # listed legs are noise, not an arbitrage.
        untradable = any(not x.has_book or x.ghost for x in legs)
        tick = legs[0].tick
        n = nticks(tick)
        probs = [self.w.price(x, t) for x in legs]
        target = 0.008 + 0.012 * self._u(62, i)  # after every leg's taker fee, 4-10x the default min edge
        pins: list[int] = []
        for edge_ticks in range(1, n // 4):
            budget = n - edge_ticks
            pins = [max(2, math.floor(p * budget)) for p in probs]
            pins[0] -= max(0, sum(pins) - budget)
            pins[0] = max(pins[0], 2)
            fees = sum(_fee(x, p * tick) for x, p in zip(legs, pins, strict=True))
            if sum(pins) <= budget and (n - sum(pins)) * tick - fees >= target:
                break
        else:
            return
        dur = 120 + 480 * self._u(63, i)
        fill = round(50 + 300 * self._u(64, i), 2)
        w = {
            "mode": "negrisk",
            "start": t,
            "end": t + dur,
            "edge_ticks": n - sum(pins),
            "fillable_size": fill,
            "pins": {x.idx: p for x, p in zip(legs, pins, strict=True)},
        }
        for x in legs:
            self.w.arb_windows.setdefault(x.idx, []).append(w)
        gross = (n - sum(pins)) * tick
        fees = sum(_fee(x, p * tick) for x, p in zip(legs, pins, strict=True))
        self._rec(
            "untradable_negrisk" if untradable else "arbitrage_negrisk",
            not untradable,
            t,
            t + dur,
            legs[0],
            0,
            edge=round(gross, 6),
            edge_after_fees=round(gross - fees, 6),
            fillable_size=fill,
            event_id=ev.id,
            neg_risk_market_id=ev.neg_risk_market_id,
            condition_ids=[x.condition_id for x in legs],
            token_ids=[x.token_ids[0] for x in legs],
            yes_asks_at_start=[round(p * tick, 4) for p in pins],
        )

    def settlement_sweeps(self) -> None:
        k = 0
        for m in self.w.markets:
            if (
                not m.has_book
                or m.ghost
                or not (self.w.history_start + 3600 < m.close_time < self.w.horizon_end)
            ):
                continue
            t = m.close_time - 600 - 1200 * self._u(70, m.idx)
            if self.w.price(m, t) < 0.95 and self.w.price(m, t) > 0.05:
                continue
            oc = m.winner
            wi = self._wallet(self.w.history_start - 86400 * 200)
            row = self._fill(t, m, wi, 0, oc, 10000 + 40000 * self._u(71, m.idx))
            self._rec("settlement_sweep", False, t, t, m, oc, [wi], [row], price=row[7])
            k += 1
            if k >= max(3, len(self.w.markets) // 20):
                break

    def resolution_ramps(self) -> None:
        """A market converging to its winner over its last RAMP before close is the outcome becoming known: a
        real move, as on Polymarket, where prices run to 0/1 while the news lands, before the end date. Listed
        so a detector alerting inside it is right; `max_move_15m` says how steep it gets (not every ramp is a
        spike). Disputed markets are left out: they are `disputed_market` noise, held back by design."""
        w = self.w
        for m in w.markets:
            start, end = max(m.close_time - RAMP, m.created_at), m.close_time
            if not m.has_book or m.ghost or m.dispute or end <= w.history_start or start >= w.horizon_end:
                continue
            px = [w.price(m, start + 60 * k) for k in range(int((end - start) // 60))]
            move = max((abs(px[k + 15] - px[k]) for k in range(len(px) - 15)), default=0.0)
            self._rec(
                "resolution_ramp",
                True,
                start,
                end,
                m,
                0,
                winner=m.token_ids[m.winner],
                price_at_start=round(px[0], 4) if px else None,
                max_move_15m=round(move, 4),
            )

    def static_noise(self) -> None:
        w = self.w
        for wi in range(20, 30):
            self._rec(
                "market_maker",
                False,
                w.history_start,
                w.horizon_end,
                wallets=[wi],
                note="quotes both sides in many markets; maker on most fills, taker on some",
            )
        for m in w.markets:
            if m.ghost:
                self._rec(
                    "ghost_book",
                    False,
                    max(m.created_at, w.history_start),
                    min(m.close_time, w.horizon_end),
                    m,
                    0,
                    note="0.01/0.99 tops with tiny size",
                )
            if m.dispute and w.history_start < m.close_time < w.horizon_end:
                self._rec("disputed_market", False, m.close_time, m.close_time, m, None, status=m.dispute)
        for ev in w.events:
            if ev.augmented:
                legs = [w.markets[j] for j in ev.markets if w.markets[j].has_book]
                t0 = max(w.history_start, max(x.created_at for x in legs))
                self._rec(
                    "incomplete_negrisk_set",
                    False,
                    t0,
                    min(min(x.close_time for x in legs), w.horizon_end),
                    legs[0],
                    0,
                    event_id=ev.id,
                    neg_risk_market_id=ev.neg_risk_market_id,
                    condition_ids=[x.condition_id for x in legs],
                    note="augmented event: the 'Other' leg has no book, so listed YES asks sum < 1",
                )


def _fee(m: Market, p: float) -> float:
    fs = m.fee_schedule
    if not fs:
        return 0.0
    return math.floor(fs["rate"] * (p * (1 - p)) ** fs["exponent"] * 1e5) / 1e5
