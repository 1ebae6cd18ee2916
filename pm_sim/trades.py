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

from .books import min_side_depth, nticks, yes_tops
from .rng import hex_id, vh, vu01
from .world import World

N_MM = 10  # market-maker wallets: idx 20..29
VOLUME_CAP = 0.01  # a background fill is at most this share of its market's reported 24 h volume
DEPTH_CAP = 0.5  # ... and at most this share of the least visible shares the book side it hits can hold
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
        self.lam = wts / max(wts.sum(), 1e-9) * self.rate * self.B  # expected fills per bucket
        self.created = np.array([m.created_at for m in world.markets])
        self.closes = np.array([m.close_time for m in world.markets])
        self.midx = np.arange(n, dtype=np.int64)
        self.day_usd = [world.daily_volume_usdc(m) for m in world.markets]
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
        """Fills of market(s) m in bucket(s) b (broadcast): the one formula every view shares.

        Poisson-like arrivals (mean lam, variance about lam: a gamma draw of shape lam by the Wilson-Hilferty
        transform; exponential below one fill per bucket): unplanted flow has no bursts of its own, so a volume
        spike exists only where one is planted. (Exponential counts, variance lam squared, made busy markets
        burst past the default volume-spike thresholds by chance.)"""
        s = self.w.seed
        lam = self.lam[m]
        k = np.maximum(lam, 1.0)
        g = _vgauss(s, 92, b, m)
        poisson_like = k * np.maximum(0.0, 1 - 1 / (9 * k) + g / np.sqrt(9 * k)) ** 3
        sparse = lam * -np.log(np.maximum(vu01(s, 90, b, m), 1e-12))
        return np.floor(np.where(lam >= 1.0, poisson_like, sparse) + vu01(s, 91, b, m))

    def _draw(self, b: np.ndarray, m: np.ndarray, counts: np.ndarray) -> dict | None:
        """Every per-fill draw of (bucket, market, count) triples, vectorised; None when there are no fills."""
        counts = counts.astype(np.int64)
        tot = int(counts.sum())
        if tot == 0:
            return None
        s = self.w.seed
        bb = np.repeat(b, counts)
        mm = np.repeat(m, counts)
        starts = np.cumsum(counts) - counts
        j = np.arange(tot) - np.repeat(starts, counts)
        lead_flag = (j == 0) | (vu01(s, 93, bb, mm, j) > 0.2)  # ~20% of fills share the previous tx
        ar = np.arange(tot)
        leader = np.maximum.accumulate(np.where(lead_flag, ar, 0))
        ts = bb * (self.B * 1000) + np.floor(vu01(s, 94, bb, mm, j)[leader] * self.B * 1000).astype(np.int64)
        nw = self.w.n_wallets
        uw = vu01(s, 95, bb, mm, j)
        widx = np.floor(nw * uw**3).astype(np.int64)
        mm_taker = vu01(s, 96, bb, mm, j) < 0.08
        widx = np.where(mm_taker, 20 + (vh(s, 97, bb, mm, j) % np.uint64(N_MM)).astype(np.int64), widx)
        # Wallets created inside the window cannot trade before they exist: fall back to an old one.
        newish = (widx >= 1000) & (vu01(s, 71, widx) < 0.05)
        born = self.w.history_start + vu01(s, 72, widx) * (self.w.horizon_end - self.w.history_start)
        widx = np.where(newish & (born * 1000 > ts), widx % 1000, widx)
        maker = np.where(
            vu01(s, 102, bb, mm, j) < 0.7,
            20 + (vh(s, 103, bb, mm, j) % np.uint64(N_MM)).astype(np.int64),
            np.floor(nw * vu01(s, 104, bb, mm, j) ** 2).astype(np.int64) % 1000,
        )
        return {
            "tot": tot,
            "bb": bb,
            "mm": mm,
            "j": j,
            "leader": leader,
            "lead_flag": lead_flag,
            "ts": ts,
            "widx": widx,
            "maker": maker,
        }

    def _expand(self, b: np.ndarray, m: np.ndarray, counts: np.ndarray) -> list[tuple]:
        """Fills for (bucket, market, count) triples -> row tuples (unsorted, taker rows only)."""
        d = self._draw(b, m, counts)
        if d is None:
            return []
        s = self.w.seed
        tot, bb, mm, j, leader, ts, widx, maker = (
            d[k] for k in ("tot", "bb", "mm", "j", "leader", "ts", "widx", "maker")
        )
        self.generated += tot
        side = (vu01(s, 98, bb, mm, j) > 0.58).astype(np.int64)
        oc = (vu01(s, 99, bb, mm, j) > 0.6).astype(np.int64)
        usd = np.exp(2.3 + 1.5 * _vgauss(s, 100, bb, mm, j))
        usd = np.where(widx < 20, usd * 20, usd)  # whales
        walk = vu01(s, 101, bb, mm, j)
        txk = vh(s, 105, bb[leader], mm[leader], j[leader])
        dup = (~d["lead_flag"]) & (vu01(s, 106, bb, mm, j) < 0.03)
        rows: list[tuple] = []
        markets = self.w.markets
        for i in range(tot):
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
            # Shares the fill may take: BUY YES / SELL NO hit the YES asks (NO bids mirror them), the rest the bids.
            yes_side = 1 if (o == 0) == (sd == 0) else 0
            depth = min_side_depth(self.w, mk, aidx if yes_side else bidx, yes_side, tick)
            if walk[i] < 0.12:  # a fill that walked a level: average price off the tick grid
                price = price + (tick if sd == 0 else -tick) * float(walk[i]) * 4
                price = min(max(price, tick), 1 - tick)
            else:
                price = round(price, 4)
            # Bounded against the market itself: a background fill stays a small share of the day's volume and
            # of the visible book on the side it hits (soft caps: no pile-up at the bound), so ordinary flow never
            # looks like a size anomaly; only planted fills are large for their market.
            cash = _soft_cap(float(usd[i]), VOLUME_CAP * self.day_usd[mi])
            size = round(max(_soft_cap(cash / max(price, 0.01), DEPTH_CAP * depth), 0.01), 2)
            rows.append(
                (int(ts[i]), mi, int(j[i]) * 2, int(widx[i]), sd, o, size, price, int(txk[i]), int(maker[i]))
            )
        return rows

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
            rows = [r for mi in sorted(cells[b]) for r in self._cell(b, mi)]
            rows.extend(r for r in self.planted.get(b, ()) if wallet in (r[3], r[9]))
            rows.sort(key=_key, reverse=True)
            yield from rows

    def _cell(self, b: int, mi: int) -> list[tuple]:
        """Background taker rows of market mi in bucket b (cached: a cursor walk revisits the same cells)."""
        hit = self._ccache.get((b, mi))
        if hit is not None:
            self._ccache.move_to_end((b, mi))
            return hit
        ms = np.array([mi], dtype=np.int64)
        rows = self._expand(np.array([b], dtype=np.int64), ms, self._counts(b, ms))
        self._ccache[(b, mi)] = rows
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
        if wallet is not None and wallet >= self.w.n_wallets:
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


def _soft_cap(x: float, cap: float) -> float:
    """x below the cap, saturating smoothly towards it (x for x << cap, never above cap)."""
    return cap * -math.expm1(-x / cap) if cap > 0 else 0.0


def _vgauss(*keys) -> np.ndarray:
    u1 = np.maximum(vu01(*keys, 1), 1e-12)
    u2 = vu01(*keys, 2)
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)


def tx_hash(seed: int, txk: int) -> str:
    return "0x" + hex_id(32, seed, 107, txk)
