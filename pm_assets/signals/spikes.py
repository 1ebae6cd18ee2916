"""Price and volume spikes. Dagster-free (the backtest replays it).

- `price_move`: a token's price moved at least `min_move_points` points (0.01 = 1 point) within
  `window_minutes`; the move is reported from the lowest (rise) or highest (fall) price seen in the window
  before. Prices come from trades, websocket last trades and price history, merged. Three more rules keep
  ordinary noise out, all of which must hold:
  * robust reference: the move also reaches `min_move_points` from the MEDIAN price of the window before
    (a steady trend of under 2 × min_move per window never does; one odd print in the window cannot make one);
  * persistence: the `confirm_prints` prints after the crossing stay at least `min_move_points` from that
    median (a single-trade wick, which the next trade undoes, never fires; the row waits for them);
  * own volatility: the move is at least `move_z` times the typical `window_minutes` change of the token's
    price (robust: 1.4826 × median absolute change) over the trailing `vol_hours` before the window (a market that routinely swings that far
    is not spiking). Applied once two windows of trailing history exist.
  One spike is one row: after firing, the token is quiet while the move lasts and one window after it
  reverts (back within half a move of the reference, and still back at the `confirm_prints` prints after: one
  odd print does not end a spike) or for four windows if it never does, so the reversal of a spike is part of
  the spike.
- `volume_z`: a market's traded USDC in one `window_minutes` bucket has a robust z-score of at least
  `volume_z` against its own trailing `baseline_hours` of buckets: (bucket − median) / (1.4826 × median absolute
  deviation), so one whale print in the baseline does not hide the next burst (empty buckets count as zero;
  the spread is floored at 10% of the baseline median plus 1 USDC so a silent market's first trade is no
  spike), and at
  least `min_volume_usdc`, once the market has 8 trailing buckets (buckets that fired are left out of the
  baseline); the bucket's fill COUNT must also reach `volume_min_fills` and a z-score of
  `volume_fills_z` against the trailing counts (std floored at the square root of the mean, as for Poisson
  arrivals): a burst of trading, not one whale print (that is the size-anomaly signal's business). The bucket
  after a firing one is its continuation, not a new spike. The baseline starts at the market's first trade.
Disputed or otherwise held markets fire with suppressed_reason (book_traps.held_reason).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha1
from typing import Any

import numpy as np

from pm_assets.signals.book_traps import held_reason
from pm_assets.signals.spec import SignalSpec, ThresholdSet, threshold


class SpikeThresholds(ThresholdSet):
    """Price-move and volume spike thresholds; each field's alias is its threshold name."""

    min_move_points: float = threshold(
        10.0,
        "price move in points (0.01 = 1 point) that fires",
        ge=0.1,
        le=100.0,
        name="spike_min_move_points",
    )
    window_minutes: int = threshold(
        15, "minutes within which the move must happen", ge=1, le=1440, name="spike_window_minutes"
    )
    volume_z: float = threshold(
        4.0,
        "volume z-score against the market's trailing baseline that fires",
        ge=0.5,
        le=100.0,
        name="spike_volume_z",
    )
    baseline_hours: int = threshold(
        24,
        "hours of trailing buckets forming the volume baseline",
        ge=1,
        le=24 * 30,
        name="spike_baseline_hours",
    )
    min_volume_usdc: float = threshold(
        500.0, "least bucket volume for a volume spike", ge=0.0, le=1e9, name="spike_min_volume_usdc"
    )
    confirm_prints: int = threshold(
        1,
        "prints after the crossing that must stay a full move from the window's "
        "median price (0 = off; a single-trade wick never fires)",
        ge=0,
        le=50,
        name="spike_confirm_prints",
    )
    move_z: float = threshold(
        4.0,
        "least move / the token's usual window-length move (1.4826 x median absolute "
        "change over the trailing spike_vol_hours; applied once two windows of history exist)",
        ge=0.0,
        le=100.0,
        name="spike_move_z",
    )
    vol_hours: float = threshold(
        6.0,
        "hours of the token's trailing price changes its usual move is measured over",
        ge=0.5,
        le=24 * 30,
        name="spike_vol_hours",
    )
    volume_min_fills: int = threshold(
        10,
        "least fills in a bucket for a volume spike (one whale print is none)",
        ge=1,
        le=100_000,
        name="spike_volume_min_fills",
    )
    volume_fills_z: float = threshold(
        4.0,
        "least fill-count z-score of a volume spike bucket against the trailing "
        "counts (std floored at sqrt(mean))",
        ge=0.0,
        le=100.0,
        name="spike_volume_fills_z",
    )


@dataclass(frozen=True)
class Spike:
    kind: str
    condition_id: str
    token_id: str
    window_start: datetime
    window_end: datetime
    price_before: float | None
    price_after: float | None
    move_points: float | None
    volume_usdc: float | None
    volume_z: float | None
    suppressed_reason: str | None
    evidence: dict[str, Any]

    @property
    def signal_key(self) -> str:
        raw = f"price_spikes|{self.kind}|{self.token_id}|{self.window_end.isoformat()}"
        return sha1(raw.encode()).hexdigest()

    def row(self) -> tuple:
        return (
            self.signal_key,
            self.kind,
            self.condition_id,
            self.token_id,
            self.window_start,
            self.window_end,
            self.price_before,
            self.price_after,
            self.move_points,
            self.volume_usdc,
            self.volume_z,
            self.suppressed_reason,
            self.evidence,
        )


ROW_COLUMNS = (
    "signal_key",
    "kind",
    "condition_id",
    "token_id",
    "window_start",
    "window_end",
    "price_before",
    "price_after",
    "move_points",
    "volume_usdc",
    "volume_z",
    "suppressed_reason",
    "evidence",
)


class TrailingVolatility:
    """Typical `window_minutes` change of one token's price over the trailing `vol_hours`: 1.4826 × the median
    absolute change (a robust standard deviation, so an earlier spike in the baseline does not hide the next
    one), from a per-minute grid of its last price (carried forward over silent minutes)."""

    def __init__(self, points: Sequence[tuple[datetime, float]], th: SpikeThresholds):
        self.w = int(th.window_minutes)
        self.span = int(th.vol_hours * 60)
        self.t0 = points[0][0] if points else None
        if not points:
            self.change = np.zeros(0)
            return
        minute = np.array([int((at - self.t0).total_seconds() // 60) for at, _ in points])
        level = np.full(int(minute[-1]) + 1, np.nan)
        for m, (_, price) in zip(minute.tolist(), points, strict=True):
            level[m] = price  # time order: the minute's last price wins
        filled = np.where(~np.isnan(level), np.arange(len(level)), 0)
        level = level[np.maximum.accumulate(filled)]
        self.change = np.abs(level[self.w :] - level[: -self.w]) if len(level) > self.w else np.zeros(0)

    def before(self, at: datetime) -> tuple[float | None, int]:
        """(typical change, minutes of changes it is measured over) for the trailing span ending at `at`; the
        change is None with fewer than one window of changes (two windows of history)."""
        if self.t0 is None:
            return None, 0
        hi = min(int((at - self.t0).total_seconds() // 60) - self.w + 1, len(self.change))
        lo = max(0, hi - self.span)
        n = hi - lo
        if n < self.w:
            return None, max(n, 0)
        return 1.4826 * float(np.median(self.change[lo:hi])), n


def price_move_spikes(
    condition_id: str,
    token_id: str,
    points: Sequence[tuple[datetime, float]],
    th: SpikeThresholds,
    *,
    markets: Mapping[str, Any] | None = None,
    evaluate_from: datetime | None = None,
    quiet_until: datetime | None = None,
) -> list[Spike]:
    """Moves of at least min_move_points within window_minutes in one token's time-ordered prices that pass
    the median-reference, persistence and own-volatility rules (module docstring)."""
    window = timedelta(minutes=th.window_minutes)
    need = th.min_move_points / 100.0
    eps = 1e-12
    times = [at for at, _ in points]
    prices = [p for _, p in points]
    vol = TrailingVolatility(points, th)
    out: list[Spike] = []
    # Monotonic deques of the window's prices: lows ascending, highs descending (latest wins ties, since the
    # latest of equal extremes is where the move began).
    lows: deque[tuple[datetime, float]] = deque()
    highs: deque[tuple[datetime, float]] = deque()
    count: deque[datetime] = deque()
    episode: tuple[float, int, datetime] | None = None  # (reference median, direction, fired at)
    reverse_quiet: tuple[int, datetime | None] = (0, None)  # (direction, until): a finished spike's reversal
    for i, (at, price) in enumerate(points):
        while lows and lows[-1][1] >= price:
            lows.pop()
        lows.append((at, price))
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((at, price))
        count.append(at)
        for q in (lows, highs):
            while q[0][0] < at - window:
                q.popleft()
        while count[0] < at - window:
            count.popleft()
        if episode is not None:
            med0, sign0, fired = episode
            # Back only when the confirm_prints after it are back too: one odd print mid-spike (a stale quote hit)
            # must not end the spike, or its real reversal later would alert as a second spike.
            back = [price, *prices[i + 1 : i + 1 + th.confirm_prints]]
            if (
                len(back) > th.confirm_prints and all(sign0 * (q - med0) <= need / 2 for q in back)
            ) or at >= fired + 4 * window:
                # The move reverted (or settled): its reversal is part of it, and stays quiet one more window
                # so the window holding the spike is no reference for a move back.
                episode, reverse_quiet = None, (-sign0, at + window)
        if quiet_until is not None and at <= quiet_until:
            continue
        low, high = lows[0], highs[0]
        ref = low if price - low[1] >= need - eps else high if high[1] - price >= need - eps else None
        if ref is None:
            continue
        sign = 1 if ref is low else -1
        if (episode is not None and sign == -episode[1]) or (
            sign == reverse_quiet[0] and at <= reverse_quiet[1]
        ):
            continue
        prior = prices[bisect_left(times, at - window) : i]
        med = statistics.median(prior) if prior else ref[1]
        if sign * (price - med) < need - eps:
            continue
        confirm = prices[i + 1 : i + 1 + th.confirm_prints]
        if len(confirm) < th.confirm_prints or any(sign * (q - med) < need - eps for q in confirm):
            continue
        rms, base_minutes = vol.before(at - window)
        z = abs(price - med) / max(rms, 0.01) if rms is not None else None
        if z is not None and z < th.move_z:
            continue
        episode, quiet_until = (med, sign, at), at + window
        if evaluate_from is not None and at < evaluate_from:
            continue
        move = round((price - ref[1]) * 100, 4)
        market = (markets or {}).get(condition_id)
        reason = held_reason(market, at) if market is not None else None
        evidence = {
            "summary": (
                f"Price moved {move:+.1f} points ({ref[1]:.3f} → {price:.3f}) in "
                f"{(at - ref[0]).total_seconds() / 60:.1f} min on token {token_id}"
                + (f", {(price - med) * 100:+.1f} from the window's median {med:.3f}")
                + (f", {z:.1f}× its usual {th.window_minutes}-min move" if z is not None else "")
                + (f"; held back: {reason}" if reason else "")
            ),
            "kind": "price_move",
            "move_points": move,
            "reference_at": ref[0].isoformat(),
            "points_in_window": len(count),
            "window_s": (at - ref[0]).total_seconds(),
            "reference_median": round(med, 6),
            "move_from_median_points": round((price - med) * 100, 4),
            "confirm_prices": [round(q, 6) for q in confirm],
            "volatility_points": round(rms * 100, 4) if rms is not None else None,
            "move_z": round(z, 4) if z is not None else None,
            "volatility_minutes": base_minutes,
            "thresholds": th.as_dict(),
        }
        out.append(
            Spike(
                "price_move",
                condition_id,
                token_id,
                ref[0],
                at,
                ref[1],
                price,
                move,
                None,
                None,
                reason,
                evidence,
            )
        )
    return out


MIN_BASELINE_BUCKETS = 8  # a volume z-score needs this many trailing buckets (2 h at 15 min) to mean anything


def bucket_start(at: datetime, minutes: int) -> datetime:
    seconds = minutes * 60
    epoch = math.floor(at.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(epoch, tz=at.tzinfo)


def volume_spikes(
    condition_id: str,
    fills: Iterable[tuple[datetime, str, float, float]],
    th: SpikeThresholds,
    *,
    markets: Mapping[str, Any] | None = None,
    evaluate_from: datetime | None = None,
    first_trade_at: datetime | None = None,
) -> list[Spike]:
    """Buckets of a market's fills (at, token, price, usdc) whose volume z-score reaches the threshold."""
    buckets: dict[datetime, dict[str, Any]] = {}
    for at, token_id, price, usdc in fills:
        b = buckets.setdefault(
            bucket_start(at, th.window_minutes), {"usdc": 0.0, "n": 0, "by_token": {}, "prices": {}}
        )
        b["usdc"] += usdc
        b["n"] += 1
        b["by_token"][token_id] = b["by_token"].get(token_id, 0.0) + usdc
        b["prices"].setdefault(token_id, []).append((at, price))
    if not buckets:
        return []
    step = timedelta(minutes=th.window_minutes)
    n_base = max(1, int(th.baseline_hours * 60 / th.window_minutes))
    first = bucket_start(first_trade_at or min(buckets), th.window_minutes)
    out = []
    fired_at: datetime | None = None
    fired: set[datetime] = set()
    empty = {"usdc": 0.0, "n": 0}
    for start in sorted(buckets):
        b = buckets[start]
        # Buckets that fired are spikes, not the market's normal: they stay out of its baseline.
        history = [
            buckets.get(start - step * k, empty)
            for k in range(1, n_base + 1)
            if start - step * k >= first and start - step * k not in fired
        ]
        if (
            len(history) < MIN_BASELINE_BUCKETS
            or b["usdc"] < th.min_volume_usdc
            or b["n"] < th.volume_min_fills
        ):
            continue
        usdc = [v["usdc"] for v in history]
        # Robust centre and spread (median, 1.4826 × median absolute deviation): one whale print in the
        # baseline would otherwise inflate a plain standard deviation enough to hide the next real burst.
        mean = statistics.median(usdc)
        std = 1.4826 * statistics.median(abs(v - mean) for v in usdc)
        floor = 0.1 * mean + 1.0
        z = (b["usdc"] - mean) / max(std, floor)
        counts = [v["n"] for v in history]
        n_mean = sum(counts) / len(counts)
        n_std = math.sqrt(sum((v - n_mean) ** 2 for v in counts) / len(counts))
        n_z = (b["n"] - n_mean) / max(n_std, math.sqrt(n_mean), 1.0)
        if z < th.volume_z or n_z < th.volume_fills_z:
            continue
        continuation = fired_at is not None and start == fired_at + step
        fired_at = start
        fired.add(start)
        if continuation or (evaluate_from is not None and start + step <= evaluate_from):
            continue  # the bucket after a firing one continues that burst
        token_id = max(b["by_token"], key=lambda t: (b["by_token"][t], t))
        prices = sorted(b["prices"][token_id])
        end = start + step
        market = (markets or {}).get(condition_id)
        reason = held_reason(market, end) if market is not None else None
        evidence = {
            "summary": (
                f"${b['usdc']:,.0f} traded in {th.window_minutes} min, z = {z:.1f} against a "
                f"${mean:,.0f} median baseline over {len(history)} buckets; {b['n']} fills, z = {n_z:.1f}"
                + (f"; held back: {reason}" if reason else "")
            ),
            "kind": "volume_z",
            "volume_usdc": round(b["usdc"], 4),
            "volume_z": round(z, 4),
            "baseline_median": round(mean, 4),
            "baseline_robust_std": round(std, 4),
            "std_floor": round(floor, 4),
            "baseline_buckets": len(history),
            "fills": b["n"],
            "fills_z": round(n_z, 4),
            "baseline_fills_mean": round(n_mean, 4),
            "thresholds": th.as_dict(),
        }
        out.append(
            Spike(
                "volume_z",
                condition_id,
                token_id,
                start,
                end,
                prices[0][1],
                prices[-1][1],
                round((prices[-1][1] - prices[0][1]) * 100, 4),
                round(b["usdc"], 4),
                round(z, 4),
                reason,
                evidence,
            )
        )
    return out


def should_fire(evidence: Mapping[str, Any]) -> bool:
    """A stored spike is consistent with the thresholds in its evidence."""
    th = evidence["thresholds"]
    need = float(th["min_move_points"]) - 1e-6
    if evidence["kind"] == "price_move":
        ok = (
            abs(float(evidence["move_points"])) >= need
            and float(evidence["window_s"]) <= float(th["window_minutes"]) * 60
        )
        if "move_from_median_points" in evidence:  # rows stored before the noise rules lack them
            moved = float(evidence["move_from_median_points"])
            sign = 1 if moved > 0 else -1
            confirm = evidence["confirm_prices"]
            ref = float(evidence["reference_median"])
            z = evidence["move_z"]
            ok = (
                ok
                and abs(moved) >= need
                and len(confirm) >= int(th["confirm_prints"])
                and all(sign * (float(q) - ref) * 100 >= need for q in confirm)
                and (
                    float(z) >= float(th["move_z"])
                    if z is not None
                    else int(evidence["volatility_minutes"]) < int(th["window_minutes"])
                )
            )
        return ok
    ok = float(evidence["volume_z"]) >= float(th["volume_z"]) and float(evidence["volume_usdc"]) >= float(
        th["min_volume_usdc"]
    )
    if "fills" in evidence:
        ok = (
            ok
            and int(evidence["fills"]) >= int(th["volume_min_fills"])
            and float(evidence["fills_z"]) >= float(th["volume_fills_z"])
        )
    return ok


def detect_spikes(
    prices,
    fills,
    first_trade,
    markets,
    th: SpikeThresholds,
    evaluate_from=None,
    quiet: Mapping[str, datetime] | None = None,
) -> list[Spike]:
    """Every spike in loaded inputs (shared by the asset and the backtest)."""
    out: list[Spike] = []
    for (cid, tid), points in sorted(prices.items()):
        out += price_move_spikes(
            cid,
            tid,
            points,
            th,
            markets=markets,
            evaluate_from=evaluate_from,
            quiet_until=(quiet or {}).get(tid),
        )
    for cid, rows in sorted(fills.items()):
        out += volume_spikes(
            cid,
            sorted(rows),
            th,
            markets=markets,
            evaluate_from=evaluate_from,
            first_trade_at=first_trade.get(cid),
        )
    return out


def evaluate(log, warehouse, config):
    """The asset's work (market_assets.price_spikes), callable outside a run (the live run's periodic task,
    pm_sensors/live/periodic.py); `log` has `.info`, `config` the asset's Launchpad config. Returns a
    dg.MaterializeResult."""
    from pm_assets.signals.market_runs import materialize_spikes, run_market_signal

    return run_market_signal(log, warehouse, SPEC, config, materialize_spikes)


SPEC = SignalSpec(
    signal_type="price_spike",
    asset="price_spikes",
    thresholds=SpikeThresholds,
    table="price_spikes",
    label="Price and volume spikes",
    alert_title="Price spike",
    time_column="window_end",
    direction="move",
    aliases={"move": "move_points", "usdc": "volume_usdc", "z": "volume_z"},
    rule=should_fire,
    has_token=True,
    backtest=True,
)
