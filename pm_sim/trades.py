"""Lazy, deterministic trade flow.

Time is cut into buckets of B seconds; the number of fills of market m in bucket b and every field
of fill j are hashes of (seed, b, m, j). Nothing is stored: a page of the global feed generates a
few buckets across all markets (vectorised over markets), a condition= page generates one market
across many buckets (vectorised over buckets). Planted trades (ground truth) are merged in.

Row tuple: (ts_ms, m, jj, wallet_idx, side 0=BUY/1=SELL, outcome, size, price, tx_key, maker)
jj = 2*j for taker rows, 2*j+1 for the maker row of the same fill, so (ts_ms, m, jj) orders rows.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from . import flowfit
from .books import nticks, yes_tops
from .rng import hex_id, vh, vu01
from .world import World

N_MM = 10  # market-maker wallets: idx 20..29
CHUNK = 256  # buckets per per-market generation chunk
WBLOCK = 64  # buckets per block of the lazy per-wallet index


class TradeFlow:
    def __init__(self, world: World):
        self.w = world
        cfg = world.cfg
        self.rate = max(cfg.trades_per_second, 1e-6)
        self.B = int(min(600, max(1, round(1000 / self.rate))))
        n = len(world.markets)
        wts = np.array([m.weight if m.has_book else 0.0 for m in world.markets])
        # Expected transactions per bucket: fills per bucket / the mean fills per transaction, so the mean global
        # fill rate stays --trades-per-second.
        self.lam = wts / max(wts.sum(), 1e-9) * self.rate * self.B / flowfit.MEAN_FILLS_PER_TX
        self.created = np.array([m.created_at for m in world.markets])
        self.closes = np.array([m.close_time for m in world.markets])
        self.midx = np.arange(n, dtype=np.int64)
        # Live weight over time (markets open then), so the rate of the markets open at any moment adds up to
        # --trades-per-second: closed and future markets' share is not lost.
        self._w_total = max(float(wts.sum()), 1e-9)
        self._open_t = np.sort(self.created[wts > 0])
        self._open_cw = np.concatenate([[0.0], np.cumsum(wts[wts > 0][np.argsort(self.created[wts > 0])])])
        self._close_t = np.sort(self.closes[wts > 0])
        self._close_cw = np.concatenate([[0.0], np.cumsum(wts[wts > 0][np.argsort(self.closes[wts > 0])])])
        self.planted: dict[int, list[tuple]] = {}  # bucket -> planted row tuples
        self.planted_by_wallet: dict[int, list[tuple]] = {}
        self._gcache: OrderedDict = OrderedDict()
        self._mcache: OrderedDict = OrderedDict()
        self._ltp: dict = {}
        self.generated = 0  # fills materialised so far (a work counter for tests and benches)
        self._windex: dict[int, tuple] = {}  # bucket block -> (wallets, buckets, markets) sorted by wallet
        self._planted_touch: dict[int, set[int]] | None = None
        self._ccache: OrderedDict = OrderedDict()

    def bucket(self, t: float) -> int:
        return math.floor(t / self.B)

    def add_planted(self, row: tuple) -> None:
        b = self.bucket(row[0] / 1000)
        self.planted.setdefault(b, []).append(row)
        self.planted_by_wallet.setdefault(row[3], []).append(row)

    # ------------------------------------------------------------ generation
    def _counts(self, b, m) -> np.ndarray:
        """Transactions of market(s) m in bucket(s) b (broadcast): the one formula every view shares.

        A doubly stochastic (Cox) process fitted to real flow (real-flow.md: inter-arrival CV ~3 per market):
        the market's mean rate times an activity level that is lognormal at three time scales (this bucket, its
        quarter-hour, its three hours; mean 1, so the long-run rate is unchanged), then a Poisson-like draw of
        that mean (a gamma draw by the Wilson-Hilferty transform; exponential below one per bucket)."""
        s = self.w.seed
        t0 = np.asarray(b, dtype=np.int64) * self.B
        k1 = np.asarray(t0 // flowfit.REGIME_S[0], dtype=np.int64)
        k2 = np.asarray(t0 // flowfit.REGIME_S[1], dtype=np.int64)
        z = flowfit.activity(s, m, b, k1, k2)
        lam = self.lam[m] * z * self._live_scale((t0 + self.B / 2).astype(np.float64))
        k = np.maximum(lam, 1.0)
        g = _vgauss(s, 92, b, m)
        poisson_like = k * np.maximum(0.0, 1 - 1 / (9 * k) + g / np.sqrt(9 * k)) ** 3
        sparse = lam * -np.log(np.maximum(vu01(s, 90, b, m), 1e-12))
        return np.floor(np.where(lam >= 1.0, poisson_like, sparse) + vu01(s, 91, b, m))

    def _live_scale(self, t: np.ndarray) -> np.ndarray:
        live = (
            self._open_cw[np.searchsorted(self._open_t, t, "right")]
            - self._close_cw[np.searchsorted(self._close_t, t, "right")]
        )
        return self._w_total / np.maximum(live, self._w_total * 0.05)

    def _draw(self, b: np.ndarray, m: np.ndarray, counts: np.ndarray) -> dict | None:
        """Every per-fill draw of (bucket, market, transaction count) triples, vectorised; None when no fills.

        Each transaction holds one or more fills at one instant (geometric, real-flow.md: ~45% of consecutive
        fills share a second); each fill's size comes from the real size distribution and its wallet from the
        fitted wallet mix (pm_sim.flowfit), which depends on the size (big fills: fresh or heavy wallets)."""
        ntx = counts.astype(np.int64)
        n_tx = int(ntx.sum())
        if n_tx == 0:
            return None
        s = self.w.seed
        tb = np.repeat(b, ntx)
        tm = np.repeat(m, ntx)
        tx_i = np.arange(n_tx) - np.repeat(np.cumsum(ntx) - ntx, ntx)  # transaction index within its cell
        nf = flowfit.fills_per_tx(vu01(s, 93, tb, tm, tx_i))
        tot = int(nf.sum())
        first = np.cumsum(nf) - nf  # each transaction's first fill
        cell_first = np.repeat(first[(np.cumsum(ntx) - ntx)[ntx > 0]], ntx[ntx > 0])
        ar = np.arange(tot)
        leader = np.repeat(first, nf)
        j = ar - np.repeat(cell_first, nf)  # fill index within its (bucket, market) cell
        bb = np.repeat(tb, nf)
        mm = np.repeat(tm, nf)
        ts = np.repeat(tb * (self.B * 1000) + np.floor(vu01(s, 94, tb, tm, tx_i) * self.B * 1000), nf).astype(
            np.int64
        )
        txk = np.repeat(vh(s, 105, tb, tm, tx_i), nf)
        usd = flowfit.fill_usdc(vu01(s, 100, bb, mm, j))
        widx = flowfit.taker_wallets(self.w, s, bb, mm, j, ts, usd)
        maker = np.where(
            vu01(s, 102, bb, mm, j) < 0.7,
            20 + (vh(s, 103, bb, mm, j) % np.uint64(N_MM)).astype(np.int64),
            np.floor(self.w.n_wallets * vu01(s, 104, bb, mm, j) ** 2).astype(np.int64) % 1000,
        )
        return {
            "tot": tot,
            "bb": bb,
            "mm": mm,
            "j": j,
            "leader": leader,
            "lead_flag": ar == leader,
            "ts": ts,
            "txk": txk,
            "usd": usd,
            "widx": widx,
            "maker": maker,
        }

    def _expand(
        self, b: np.ndarray, m: np.ndarray, counts: np.ndarray, wallet: int | None = None
    ) -> list[tuple]:
        """Fills for (bucket, market, count) triples -> row tuples (unsorted, taker rows only); with `wallet`, only
        the fills where it is taker or maker (a twin fill copies the fill before it, which is kept too)."""
        d = self._draw(b, m, counts)
        if d is None:
            return []
        s = self.w.seed
        tot, bb, mm, j, ts, widx, maker, txk, usd = (
            d[k] for k in ("tot", "bb", "mm", "j", "ts", "widx", "maker", "txk", "usd")
        )
        dup = (~d["lead_flag"]) & (vu01(s, 106, bb, mm, j) < 0.03)
        keep = None
        if wallet is not None:
            ar = np.arange(tot)
            src = np.maximum.accumulate(np.where(dup, 0, ar))  # the fill a twin (chain) copies
            mine = (widx[src] == wallet) | (maker[src] == wallet)
            keep = mine.copy()
            keep[src[mine]] = True
        self.generated += tot if keep is None else int(keep.sum())
        side = (vu01(s, 98, bb, mm, j) > 0.58).astype(np.int64)
        oc = (vu01(s, 99, bb, mm, j) > 0.6).astype(np.int64)
        walk = vu01(s, 101, bb, mm, j)
        rows: list[tuple] = []
        markets = self.w.markets
        for i in range(tot):
            if keep is not None and not keep[i]:
                continue
            mi = int(mm[i])
            mk = markets[mi]
            t_s = ts[i] / 1000
            if not (mk.created_at <= t_s < mk.close_time):
                continue
            if dup[i] and rows and rows[-1][1] == mi and rows[-1][8] == int(txk[i]):
                prev = rows[-1]  # identical twin fill inside one tx: clients must key by occurrence
                rows.append((prev[0], mi, int(j[i]) * 2, *prev[3:]))
                continue
            tick = self.w.tick_at(mk, t_s)
            n = nticks(tick)
            bidx, aidx = yes_tops(self.w, mk, t_s, tick)
            o = int(oc[i])
            sd = int(side[i])
            if o == 0:
                pidx = aidx if sd == 0 else bidx
            else:
                pidx = n - bidx if sd == 0 else n - aidx
            price = pidx * tick
            if walk[i] < 0.12:  # a fill that walked a level: average price off the tick grid
                price = price + (tick if sd == 0 else -tick) * float(walk[i]) * 4
                price = min(max(price, tick), 1 - tick)
            else:
                price = round(price, 4)
            # The size in USDC is drawn from the real distribution (heavy tail included) whatever the market:
            # real thin markets see $10k fills too (real-flow.md); judging them is the detectors' job.
            size = round(max(float(usd[i]) / max(price, 0.001), 0.01), 2)
            rows.append(
                (int(ts[i]), mi, int(j[i]) * 2, int(widx[i]), sd, o, size, price, int(txk[i]), int(maker[i]))
            )
        return rows

    def fill_count(self, t0: float, t1: float) -> int:
        """Background fills with t0 <= bucket start < t1, counted from the vectorised draws (no rows built): what
        the flow serves over long spans, to check the mean rate (--trades-per-second) cheaply."""
        total = 0
        lo, hi = self.bucket(t0), self.bucket(t1)
        for k in range(lo, hi, WBLOCK):
            ms = [self._live(b) for b in range(k, min(k + WBLOCK, hi))]
            bs = [np.full(len(m), k + i, dtype=np.int64) for i, m in enumerate(ms)]
            b_all, m_all = np.concatenate(bs), np.concatenate(ms)
            d = self._draw(b_all, m_all, self._counts(b_all, m_all)) if len(m_all) else None
            total += 0 if d is None else d["tot"]
        return total

    def _live(self, b: int) -> np.ndarray:
        t0, t1 = b * self.B, (b + 1) * self.B
        return self.midx[(self.created < t1) & (self.closes > t0) & (self.lam > 0)]

    def global_bucket(self, b: int) -> list[tuple]:
        """All taker rows of bucket b (incl. planted), newest first."""
        hit = self._gcache.get(b)
        if hit is not None:
            self._gcache.move_to_end(b)
            return hit
        m = self._live(b)
        rows = self._expand(np.full(len(m), b, dtype=np.int64), m, self._counts(b, m))
        rows.extend(self.planted.get(b, ()))
        rows.sort(key=_key, reverse=True)
        self._gcache[b] = rows
        if len(self._gcache) > 256:
            self._gcache.popitem(last=False)
        return rows

    def market_chunk(self, mi: int, c: int) -> list[tuple]:
        """Taker rows of market mi in buckets [c*CHUNK, (c+1)*CHUNK), newest first."""
        key = (mi, c)
        hit = self._mcache.get(key)
        if hit is not None:
            self._mcache.move_to_end(key)
            return hit
        b = np.arange(c * CHUNK, (c + 1) * CHUNK, dtype=np.int64)
        mk = self.w.markets[mi]
        if (
            self.lam[mi] <= 0
            or mk.created_at >= (c + 1) * CHUNK * self.B
            or mk.close_time <= c * CHUNK * self.B
        ):
            counts = np.zeros(len(b))
        else:
            counts = self._counts(b, mi)
        rows = self._expand(b, np.full(len(b), mi, dtype=np.int64), counts)
        for bb in range(c * CHUNK, (c + 1) * CHUNK):
            rows.extend(r for r in self.planted.get(bb, ()) if r[1] == mi)
        rows.sort(key=_key, reverse=True)
        self._mcache[key] = rows
        if len(self._mcache) > 4096:
            self._mcache.popitem(last=False)
        return rows

    # ------------------------------------------------------------ per-wallet index
    def _wallet_block(self, k: int) -> tuple:
        """(wallets, buckets, markets) of every fill in buckets [k*WBLOCK, (k+1)*WBLOCK), taker and maker
        sides, sorted by wallet. Built from the vectorised draws only (no rows), once per block."""
        hit = self._windex.get(k)
        if hit is not None:
            return hit
        bs, ms = [], []
        for b in range(k * WBLOCK, (k + 1) * WBLOCK):
            m = self._live(b)
            bs.append(np.full(len(m), b, dtype=np.int64))
            ms.append(m)
        b_all, m_all = np.concatenate(bs), np.concatenate(ms)
        d = self._draw(b_all, m_all, self._counts(b_all, m_all)) if len(m_all) else None
        if d is None:
            entry = (np.zeros(0, np.int64),) * 3
        else:
            w = np.concatenate([d["widx"], d["maker"]])
            order = np.argsort(w, kind="stable")
            entry = (
                w[order],
                np.concatenate([d["bb"], d["bb"]])[order],
                np.concatenate([d["mm"], d["mm"]])[order],
            )
        self._windex[k] = entry
        return entry

    def _planted_buckets(self, wallet: int) -> set[int]:
        if self._planted_touch is None:
            touch: dict[int, set[int]] = {}
            for b, rows in self.planted.items():
                for r in rows:
                    touch.setdefault(r[3], set()).add(b)
                    touch.setdefault(r[9], set()).add(b)
            self._planted_touch = touch
        return self._planted_touch.get(wallet, set())

    def _wallet_rows(self, wallet: int, lo: int, hi: int):
        """Rows of buckets hi..lo (newest first) in which `wallet` is taker or maker: only the (bucket, market)
        cells the index names are generated, so the work follows the wallet's own fills, not the history."""
        cells: dict[int, set[int]] = {}
        for k in range(hi // WBLOCK, lo // WBLOCK - 1, -1):
            ws, bs, ms = self._wallet_block(k)
            a, z = np.searchsorted(ws, wallet, "left"), np.searchsorted(ws, wallet, "right")
            for b, m in zip(bs[a:z].tolist(), ms[a:z].tolist(), strict=True):
                if lo <= b <= hi:
                    cells.setdefault(b, set()).add(m)
        for b in self._planted_buckets(wallet):
            if lo <= b <= hi:
                cells.setdefault(b, set())
        for b in sorted(cells, reverse=True):
            rows = [r for mi in sorted(cells[b]) for r in self._cell(b, mi, wallet)]
            rows.extend(r for r in self.planted.get(b, ()) if wallet in (r[3], r[9]))
            rows.sort(key=_key, reverse=True)
            yield from rows

    def _cell(self, b: int, mi: int, wallet: int) -> list[tuple]:
        """Background taker rows of market mi in bucket b that involve `wallet` (cached: a cursor walk revisits
        the same cells). Only that wallet's fills are built: a burst puts hundreds of fills in one cell."""
        key = (b, mi, wallet)
        hit = self._ccache.get(key)
        if hit is not None:
            self._ccache.move_to_end(key)
            return hit
        ms = np.array([mi], dtype=np.int64)
        rows = self._expand(np.array([b], dtype=np.int64), ms, self._counts(b, ms), wallet)
        self._ccache[key] = rows
        if len(self._ccache) > 8192:
            self._ccache.popitem(last=False)
        return rows

    # ------------------------------------------------------------ iteration (newest first)
    def iter_rows(
        self,
        now_ms: int,
        floor_ms: int,
        markets: list[int] | None = None,
        wallet: int | None = None,
        anchor: tuple | None = None,
        include_maker: bool = False,
    ):
        """Yield taker rows with floor_ms <= ts_ms <= now_ms, strictly older than anchor (ts, m, jj)."""
        top = anchor if anchor is not None else (now_ms, 1 << 40, 1 << 40)
        if wallet is not None and self.w.is_planted_wallet(wallet):
            for r in sorted(self.planted_by_wallet.get(wallet, ()), key=_key, reverse=True):
                if floor_ms <= r[0] <= now_ms and _key(r) < top:
                    yield r
            return
        hi_ms = min(now_ms, top[0])
        if markets is not None:
            c = self.bucket(hi_ms / 1000) // CHUNK
            lo_c = self.bucket(floor_ms / 1000) // CHUNK
            while c >= lo_c:
                merged = []
                for mi in markets:
                    merged.extend(self.market_chunk(mi, c))
                merged.sort(key=_key, reverse=True)
                for r in merged:
                    if r[0] < floor_ms:
                        return
                    if r[0] <= now_ms and _key(r) < top:
                        yield r
                c -= 1
            return
        b = self.bucket(hi_ms / 1000)
        lo = self.bucket(floor_ms / 1000)
        if wallet is not None:
            for r in self._wallet_rows(wallet, lo, b):
                if r[0] < floor_ms:
                    return
                if (
                    r[0] <= now_ms
                    and _key(r) < top
                    and (r[3] == wallet or (include_maker and r[9] == wallet))
                ):
                    yield r
            return
        while b >= lo:
            for r in self.global_bucket(b):
                if r[0] < floor_ms:
                    return
                if (
                    r[0] <= now_ms
                    and _key(r) < top
                    and (wallet is None or r[3] == wallet or (include_maker and r[9] == wallet))
                ):
                    yield r
            b -= 1

    def last_trade(self, mi: int, outcome: int, now_ms: int) -> tuple | None:
        """Newest taker fill on (market, outcome) at or before now (for /book last_trade_price)."""
        cur_c = self.bucket(now_ms / 1000) // CHUNK
        for r in self.market_chunk(mi, cur_c):
            if r[0] <= now_ms and r[5] == outcome:
                return r
        key = (mi, outcome, cur_c)
        if key in self._ltp:
            return self._ltp[key]
        found = None
        lo_c = self.bucket(self.w.history_start) // CHUNK
        c = cur_c - 1
        while c >= lo_c and found is None:
            for r in self.market_chunk(mi, c):
                if r[5] == outcome:
                    found = r
                    break
            c -= 1
        self._ltp[key] = found
        return found


def _key(r: tuple) -> tuple:
    return (r[0], r[1], r[2])


def _vgauss(*keys) -> np.ndarray:
    u1 = np.maximum(vu01(*keys, 1), 1e-12)
    u2 = vu01(*keys, 2)
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)


def tx_hash(seed: int, txk: int) -> str:
    return "0x" + hex_id(32, seed, 107, txk)
