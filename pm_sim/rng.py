"""Counter-based hashing RNG: every random draw is a pure function of (seed, counters).

Why: the world must be reproducible at any clock position without replaying history, so
trades, books and prices are computed on demand from their coordinates (market, bucket, index).
"""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1
_GOLD = 0x9E3779B97F4A7C15


def mix(x: int) -> int:
    """splitmix64 finalizer on a Python int."""
    x = (x + _GOLD) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def h(*keys: int) -> int:
    acc = 0x243F6A8885A308D3
    for k in keys:
        acc = mix(acc ^ (k & MASK))
    return acc


def u01(*keys: int) -> float:
    return (h(*keys) >> 11) * (1.0 / (1 << 53))


def hex_id(nbytes: int, *keys: int) -> str:
    """Deterministic hex string of nbytes (no 0x)."""
    out = []
    i = 0
    while len(out) * 16 < nbytes * 2:
        out.append(f"{h(*keys, i):016x}")
        i += 1
    return "".join(out)[: nbytes * 2]


def vmix(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x += np.uint64(_GOLD)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x


def vh(*keys) -> np.ndarray:
    """Vectorised h(): keys may be ints or equal-length integer arrays (broadcast)."""
    acc = np.uint64(0x243F6A8885A308D3)
    for k in keys:
        if isinstance(k, np.ndarray):
            k = k.astype(np.int64).view(np.uint64) if k.dtype != np.uint64 else k
        else:
            k = np.uint64(k & MASK)
        acc = vmix(np.asarray(acc ^ k))
    return acc


def vu01(*keys) -> np.ndarray:
    return (vh(*keys) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
