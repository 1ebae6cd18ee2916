"""The background flow's parameters, fitted to real Polymarket trades (../shared/real-flow.md).

Every number here comes from real data, never from what a detector tolerates: a detector that fires on this
flow is fixed in the detector. `pm_sim.flow_measure` measures the same figures on pm_sim's output, and
`tests/integration/sim/test_flow_fit.py` holds them to the tolerances in pm_sim/README.md.

All draws are vectorised over fills and are pure functions of (seed, counters), as the rest of the flow.
"""

from __future__ import annotations

import math

import numpy as np

from .rng import MASK, h, vh, vu01

# --------------------------------------------------------------------------- arrivals
# A market's activity level is lognormal at three scales (this bucket, its quarter-hour, its three hours), each
# with mean 1: arrivals cluster in bursts and lulls as real ones do (inter-arrival CV ~3 per market, where
# Poisson gives 1; a quiet quarter-hour in a thin market is normal).
REGIME_S = (900, 10_800)
SIGMA = (0.9, 1.1, 1.0)
# Share of transactions holding one more fill (geometric): several fills of one transaction share an instant
# (real-flow.md: 45% of consecutive fills on a busy market fall in the same second).
SAME_TX_SHARE = 0.26
MAX_FILLS_PER_TX = 40
MEAN_FILLS_PER_TX = (1 - SAME_TX_SHARE**MAX_FILLS_PER_TX) / (1 - SAME_TX_SHARE)


def fills_per_tx(u: np.ndarray) -> np.ndarray:
    """Fills of each transaction from uniforms: geometric, P(n >= k + 1) = SAME_TX_SHARE ** k."""
    n = 1 + np.floor(np.log(np.maximum(u, 1e-300)) / math.log(SAME_TX_SHARE))
    return np.minimum(n, MAX_FILLS_PER_TX).astype(np.int64)


# --------------------------------------------------------------------------- sizes
# Fill size in USDC (price x size): the real quantiles p50 / p90 / p99 / p99.9 of set A (18 / 318 / 2,356 /
# 10,000), interpolated in log size against log tail probability, extended past p99.9 on the last slope and
# cut at $250k (set B's largest sweep was $300k). Below the median nothing was measured: the same kind of
# slope down to a few cents (5 shares at 0.01).
_UP_X = np.array([math.log(2), math.log(10), math.log(100), math.log(1000), math.log(10_000), math.log(1e6)])
_UP_Y = np.log([18.0, 318.0, 2356.0, 10_000.0, 42_000.0, 250_000.0])
_LO_X = np.array([math.log(2), math.log(10), math.log(1e6)])
_LO_Y = np.log([18.0, 1.5, 0.05])


def fill_usdc(u: np.ndarray) -> np.ndarray:
    """Fill sizes in USDC from uniforms in [0, 1): the real size distribution's quantile function."""
    u = np.clip(u, 1e-12, 1 - 1e-12)
    up = np.interp(-np.log1p(-u), _UP_X, _UP_Y)
    lo = np.interp(-np.log(u), _LO_X, _LO_Y)
    return np.round(np.exp(np.where(u >= 0.5, up, np.maximum(lo, math.log(0.05)))), 2)


def mean_fill_usdc() -> float:
    """The mean of fill_usdc (numerically): what a market's reported 24 h volume is per expected fill."""
    u = (np.arange(2_000_000) + 0.5) / 2_000_000
    return float(fill_usdc(u).mean())


# --------------------------------------------------------------------------- wallets
# Fresh wallets (first activity less than 24 h before the fill): real set A has 16% of all fills, 22% of fills
# >= $1k and 52% of fills >= $10k from them. The chance a fill is fresh grows with its size.
FRESH_AT_USD = (np.log([2500.0, 10_000.0, 30_000.0]), np.array([0.155, 0.5, 0.75]))
FRESH_MEAN = 0.16  # the overall fresh share: sets how many fresh wallets are born per second
# Fresh fills per fresh wallet over its first day (Poisson): most new wallets trade once (real: 46% of wallets
# have exactly one trade).
FRESH_FILLS_PER_WALLET = 3.0
FRESH_BASE = 1 << 40  # fresh wallet k is index FRESH_BASE + k, born at fresh_t0 + k * fresh_dt
MM_TAKER_SHARE = 0.08  # taker fills by the 10 market-maker wallets (idx 20..29)
# Old wallets: index floor(n * v ** a), small indices are heavy traders; a grows with the fill's size, so big
# fills come from few wallets (real: the top 1% of wallets trade 58% of the volume).
CONCENTRATION_AT_USD = (np.log([18.0, 20_000.0]), np.array([2.2, 14.0]))


def fresh_dt(trades_per_second: float) -> float:
    """Seconds between the births of consecutive fresh wallets."""
    return FRESH_FILLS_PER_WALLET / max(trades_per_second * FRESH_MEAN, 1e-9)


def taker_wallets(world, s: int, bb, mm, j, ts: np.ndarray, usd: np.ndarray) -> np.ndarray:
    """The taker wallet of each fill (vectorised): fresh, market maker or old, depending on the fill's size."""
    lu = np.log(np.maximum(usd, 0.01))
    fresh = vu01(s, 95, bb, mm, j) < np.interp(lu, *FRESH_AT_USD)
    # A fresh wallet: born 0-24 h before the fill, on the world's grid of fresh births.
    dt = world.fresh_dt
    age = vu01(s, 96, bb, mm, j) * (86_400 - 2 * dt)
    k = np.floor((ts / 1000 - age - world.fresh_t0) / dt).astype(np.int64)
    a = np.interp(lu, *CONCENTRATION_AT_USD)
    old = np.floor(world.n_wallets * vu01(s, 97, bb, mm, j) ** a).astype(np.int64)
    mm_taker = vu01(s, 108, bb, mm, j) < MM_TAKER_SHARE
    old = np.where(mm_taker, 20 + (vh(s, 109, bb, mm, j) % np.uint64(10)).astype(np.int64), old)
    return np.where(fresh, FRESH_BASE + np.maximum(k, 0), old)


# --------------------------------------------------------------------------- activity levels
def activity(s: int, m, b, k1, k2) -> np.ndarray:
    """A market's activity level in bucket b (quarter-hour k1, three hours k2): lognormal, mean 1."""
    g = SIGMA[0] * vgauss(s, 87, m, b) + SIGMA[1] * vgauss(s, 88, m, k1) + SIGMA[2] * vgauss(s, 89, m, k2)
    return np.exp(g - sum(x * x for x in SIGMA) / 2)


def vgauss(*keys) -> np.ndarray:
    u1 = np.maximum(vu01(*keys, 1), 1e-12)
    u2 = vu01(*keys, 2)
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)


# --------------------------------------------------------------------------- fresh wallet addresses
# A fresh wallet's address is a keyed permutation (Feistel) of its index, so the address -> wallet lookup needs
# no table (fresh wallets are born at the flow's pace: millions at thousands of fills/s) and the address looks
# like any other.
_HALF = 80
_HMASK = (1 << _HALF) - 1


def _round(seed: int, r: int, x: int) -> int:
    return ((h(seed, 79, r, x >> 64, x & MASK) << 16) ^ h(seed, 78, r, x >> 64, x & MASK)) & _HMASK


def fresh_address(seed: int, widx: int) -> str:
    left, right = 0, widx
    for r in range(4):
        left, right = right, left ^ _round(seed, r, right)
    return f"0x{(left << _HALF) | right:040x}"


def fresh_index(seed: int, addr: str) -> int | None:
    """The fresh wallet index behind an address, or None when it is not one."""
    x = int(addr[2:], 16)
    left, right = x >> _HALF, x & _HMASK
    for r in range(3, -1, -1):
        left, right = right ^ _round(seed, r, left), left
    return right if left == 0 and right >= FRESH_BASE else None
