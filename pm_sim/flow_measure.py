"""The real-flow figures (../shared/real-flow.md) measured on pm_sim's own background flow.

`measure(rows, world)` takes taker fills as the flow yields them (`TradeFlow.iter_rows`); `fitted_figures()`
builds the reference world and measures it. `tests/integration/sim/test_flow_fit.py` asserts each figure within the tolerance
below, `pm-intel bench sim --flow-fit` prints them beside the real ones. The tolerances are the README's table.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict

from .config import SimConfig

# figure -> (real value, tolerance as (low, high), what it is). The real values are real-flow.md's.
REAL: dict[str, tuple[float, tuple[float, float], str]] = {
    "size_p50_usdc": (18.0, (12.0, 27.0), "fill size in USDC, median"),
    "size_p90_usdc": (318.0, (212.0, 477.0), "fill size in USDC, p90"),
    "size_p99_usdc": (2356.0, (1571.0, 3534.0), "fill size in USDC, p99"),
    "size_p999_usdc": (10_000.0, (5_000.0, 20_000.0), "fill size in USDC, p99.9"),
    "interarrival_cv_median": (
        3.2,
        (2.4, 4.2),
        "inter-arrival CV per market, median over markets > 50 fills",
    ),
    "same_second_share_busy": (0.45, (0.33, 0.57), "consecutive fills in the same second, busiest market"),
    "wallets_one_trade_share": (0.46, (0.36, 0.56), "wallets with exactly one trade"),
    "top1pct_volume_share": (0.58, (0.45, 0.71), "share of volume from the top 1% of wallets"),
    "fresh_share_all": (0.16, (0.12, 0.20), "fills by wallets < 24 h after their first activity"),
    "fresh_share_1k": (0.22, (0.15, 0.30), "... of fills >= $1k"),
    "fresh_share_10k": (0.52, (0.35, 0.70), "... of fills >= $10k"),
    "global_rate_ratio": (
        1.0,
        (0.85, 1.15),
        "fills/s over a week over --trades-per-second (the mean global rate)",
    ),
}

# The reference world: about as many fills as real set A (28,002), over a busy day's hours.
REFERENCE = {
    "seed": 11,
    "markets": 100,
    "history_hours": 12.0,
    "horizon_hours": 1.0,
    "trades_per_second": 2.0,
}


def _quantile(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def measure(rows: list[tuple], world) -> dict[str, float]:
    """The figures of REAL on taker rows (ts_ms, market, jj, wallet, side, outcome, size, price, ...)."""
    usd = sorted(r[6] * r[7] for r in rows)
    by_market: dict[int, list[int]] = defaultdict(list)
    volume: Counter = Counter()
    trades: Counter = Counter()
    fresh = [0, 0, 0]
    big = [0, 0, 0]
    for r in rows:
        by_market[r[1]].append(r[0] // 1000)  # whole seconds, as the Data API serves them
        cash = r[6] * r[7]
        volume[r[3]] += cash
        trades[r[3]] += 1
        born = world.wallet_first_activity(r[3])
        is_fresh = born is not None and r[0] / 1000 - born < 86_400
        for k, floor in enumerate((0.0, 1000.0, 10_000.0)):
            if cash >= floor:
                big[k] += 1
                fresh[k] += is_fresh
    cvs = []
    for ts in by_market.values():
        if len(ts) > 50:
            ts.sort()
            gaps = [b - a for a, b in zip(ts, ts[1:], strict=False)]
            mean = statistics.fmean(gaps)
            if mean > 0:
                cvs.append(statistics.pstdev(gaps) / mean)
    busiest = sorted(max(by_market.values(), key=len))
    same = sum(1 for a, b in zip(busiest, busiest[1:], strict=False) if a == b) / max(len(busiest) - 1, 1)
    vols = sorted(volume.values(), reverse=True)
    top = max(1, math.ceil(len(vols) / 100))
    return {
        "size_p50_usdc": _quantile(usd, 0.5),
        "size_p90_usdc": _quantile(usd, 0.9),
        "size_p99_usdc": _quantile(usd, 0.99),
        "size_p999_usdc": _quantile(usd, 0.999),
        "interarrival_cv_median": statistics.median(cvs) if cvs else 0.0,
        "same_second_share_busy": same,
        "wallets_one_trade_share": sum(1 for n in trades.values() if n == 1) / max(len(trades), 1),
        "top1pct_volume_share": sum(vols[:top]) / max(sum(vols), 1e-9),
        "fresh_share_all": fresh[0] / max(big[0], 1),
        "fresh_share_1k": fresh[1] / max(big[1], 1),
        "fresh_share_10k": fresh[2] / max(big[2], 1),
    }


def background_rows(sim) -> list[tuple]:
    """Every unplanted taker fill of the world's history (planted fills are the ground truth's, not flow)."""
    from .ground_truth import PLANT_BASE

    w = sim.world
    rows = sim.flow.iter_rows(int(w.cfg.start * 1000) - 1, int(w.history_start * 1000))
    return [r for r in rows if r[2] < 2 * PLANT_BASE]


def fitted_figures(**overrides) -> dict[str, float]:
    """Build the reference world (REFERENCE, overridable) and measure its background flow's history."""
    from .sim import Sim

    cfg = SimConfig(**{**REFERENCE, **overrides, "speed": 0.0, "rate_limits": False})
    sim = Sim(cfg)
    out = measure(background_rows(sim), sim.world)
    week = 7 * 86_400
    out["global_rate_ratio"] = sim.flow.fill_count(cfg.start, cfg.start + week) / week / cfg.trades_per_second
    return out


def table(figures: dict[str, float]) -> list[tuple[str, float, float, tuple[float, float], bool]]:
    """(figure, real, pm_sim, tolerance, within) rows, in REAL's order."""
    return [(k, real, figures[k], tol, tol[0] <= figures[k] <= tol[1]) for k, (real, tol, _) in REAL.items()]
