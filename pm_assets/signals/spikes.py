"""Price and volume spikes. Dagster-free (the backtest replays it).

- `price_move`: a token's price moved at least `min_move_points` points (0.01 = 1 point) within
  `window_minutes`; the reference is the lowest (rise) or highest (fall) price seen in the window before.
  Prices come from trades, websocket last trades and price history, merged. After firing, the token is quiet
  for one window, so one move is one row.
- `volume_z`: a market's traded USDC in one `window_minutes` bucket has a z-score of at least `volume_z`
  against its own trailing `baseline_hours` of buckets (empty buckets count as zero; the standard deviation
  is floored at 10% of the baseline mean plus 1 USDC so a silent market's first trade is no spike), and at
  least `min_volume_usdc`. The baseline starts at the market's first trade.
Disputed or otherwise held markets fire with suppressed_reason (book_traps.held_reason).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha1
from typing import Any

from pm_assets.signals.book_traps import held_reason


@dataclass(frozen=True)
class SpikeThresholds:
    min_move_points: float = 10.0
    window_minutes: int = 15
    volume_z: float = 4.0
    baseline_hours: int = 24
    min_volume_usdc: float = 500.0

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SpikeThresholds:
        """From catalogue names (`spike_min_move_points`, ...), as run config and overrides spell them."""
        names = {"min_move_points": "spike_min_move_points", "window_minutes": "spike_window_minutes",
                 "volume_z": "spike_volume_z", "baseline_hours": "spike_baseline_hours",
                 "min_volume_usdc": "spike_min_volume_usdc"}
        return cls(**{f: values[n] for f, n in names.items() if n in values})

    def as_dict(self) -> dict[str, Any]:
        return {"min_move_points": self.min_move_points, "window_minutes": self.window_minutes,
                "volume_z": self.volume_z, "baseline_hours": self.baseline_hours,
                "min_volume_usdc": self.min_volume_usdc}


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
        return (self.signal_key, self.kind, self.condition_id, self.token_id, self.window_start, self.window_end,
                self.price_before, self.price_after, self.move_points, self.volume_usdc, self.volume_z,
                self.suppressed_reason, self.evidence)


ROW_COLUMNS = ("signal_key", "kind", "condition_id", "token_id", "window_start", "window_end", "price_before",
               "price_after", "move_points", "volume_usdc", "volume_z", "suppressed_reason", "evidence")


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
    """Moves of at least min_move_points within window_minutes in one token's time-ordered prices."""
    window = timedelta(minutes=th.window_minutes)
    need = th.min_move_points / 100.0
    out: list[Spike] = []
    # Monotonic deques of the window's prices: lows ascending, highs descending (latest wins ties, since the
    # latest of equal extremes is where the move began).
    lows: deque[tuple[datetime, float]] = deque()
    highs: deque[tuple[datetime, float]] = deque()
    count: deque[datetime] = deque()
    for at, price in points:
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
        if quiet_until is not None and at <= quiet_until:
            continue
        low, high = lows[0], highs[0]
        ref = low if price - low[1] >= need - 1e-12 else high if high[1] - price >= need - 1e-12 else None
        if ref is None:
            continue
        quiet_until = at + window
        if evaluate_from is not None and at < evaluate_from:
            continue
        move = round((price - ref[1]) * 100, 4)
        market = (markets or {}).get(condition_id)
        reason = held_reason(market, at) if market is not None else None
        evidence = {
            "summary": (f"Price moved {move:+.1f} points ({ref[1]:.3f} → {price:.3f}) in "
                        f"{(at - ref[0]).total_seconds() / 60:.1f} min on token {token_id}"
                        + (f"; held back: {reason}" if reason else "")),
            "kind": "price_move", "move_points": move, "reference_at": ref[0].isoformat(), "points_in_window": len(count),
            "window_s": (at - ref[0]).total_seconds(), "thresholds": th.as_dict(),
        }
        out.append(Spike("price_move", condition_id, token_id, ref[0], at, ref[1], price, move, None, None,
                         reason, evidence))
    return out


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
        b = buckets.setdefault(bucket_start(at, th.window_minutes), {"usdc": 0.0, "by_token": {}, "prices": {}})
        b["usdc"] += usdc
        b["by_token"][token_id] = b["by_token"].get(token_id, 0.0) + usdc
        b["prices"].setdefault(token_id, []).append((at, price))
    if not buckets:
        return []
    step = timedelta(minutes=th.window_minutes)
    n_base = max(1, int(th.baseline_hours * 60 / th.window_minutes))
    first = bucket_start(first_trade_at or min(buckets), th.window_minutes)
    out = []
    for start in sorted(buckets):
        b = buckets[start]
        if evaluate_from is not None and start + step <= evaluate_from:
            continue
        history = [buckets.get(start - step * k, {"usdc": 0.0})["usdc"] for k in range(1, n_base + 1)
                   if start - step * k >= first]
        if len(history) < 4 or b["usdc"] < th.min_volume_usdc:
            continue
        mean = sum(history) / len(history)
        std = math.sqrt(sum((v - mean) ** 2 for v in history) / len(history))
        floor = 0.1 * mean + 1.0
        z = (b["usdc"] - mean) / max(std, floor)
        if z < th.volume_z:
            continue
        token_id = max(b["by_token"], key=lambda t: (b["by_token"][t], t))
        prices = sorted(b["prices"][token_id])
        end = start + step
        market = (markets or {}).get(condition_id)
        reason = held_reason(market, end) if market is not None else None
        evidence = {
            "summary": (f"${b['usdc']:,.0f} traded in {th.window_minutes} min, z = {z:.1f} against a "
                        f"${mean:,.0f} baseline over {len(history)} buckets" + (f"; held back: {reason}" if reason
                                                                                else "")),
            "kind": "volume_z", "volume_usdc": round(b["usdc"], 4), "volume_z": round(z, 4),
            "baseline_mean": round(mean, 4), "baseline_std": round(std, 4), "std_floor": round(floor, 4),
            "baseline_buckets": len(history), "thresholds": th.as_dict(),
        }
        out.append(Spike("volume_z", condition_id, token_id, start, end, prices[0][1], prices[-1][1],
                         round((prices[-1][1] - prices[0][1]) * 100, 4), round(b["usdc"], 4), round(z, 4),
                         reason, evidence))
    return out


def should_fire(evidence: Mapping[str, Any]) -> bool:
    """A stored spike is consistent with the thresholds in its evidence."""
    th = evidence["thresholds"]
    if evidence["kind"] == "price_move":
        return (abs(float(evidence["move_points"])) >= float(th["min_move_points"]) - 1e-6
                and float(evidence["window_s"]) <= float(th["window_minutes"]) * 60)
    return float(evidence["volume_z"]) >= float(th["volume_z"]) and float(evidence["volume_usdc"]) >= float(
        th["min_volume_usdc"])


# --- warehouse I/O -------------------------------------------------------------------------------------------

def latest_price_time(conn) -> datetime | None:
    return conn.execute(
        """select greatest((select max(traded_at) from trades), (select max(server_ts) from ws_last_trades),
                           (select max(ts) from price_points))"""
    ).fetchone()[0]


def earliest_price_time(conn) -> datetime | None:
    return conn.execute(
        """select least((select min(traded_at) from trades), (select min(server_ts) from ws_last_trades),
                        (select min(ts) from price_points))"""
    ).fetchone()[0]


def load_prices(conn, start: datetime, end: datetime) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    """(condition id, YES token id) -> time-ordered YES prices from trades, ws last trades and price history.

    A binary market's NO price p counts as a YES price 1 − p: one series per market, so a move fires once,
    not once per outcome. Tokens of markets with more outcomes keep their own series.
    """
    series: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
    rows = conn.execute(
        """with px as (
             select token_id, traded_at as at, price from trades where traded_at >= %(s)s and traded_at <= %(e)s
             union all
             select token_id, server_ts, price from ws_last_trades where server_ts >= %(s)s and server_ts <= %(e)s
             union all
             select token_id, ts, price from price_points where ts >= %(s)s and ts <= %(e)s
           ), pairs as (
             select condition_id, array_agg(token_id order by outcome_index) as toks from tokens group by condition_id
           )
           select k.condition_id, k.token_id, k.outcome_index, cardinality(p.toks), p.toks[1], px.at, px.price
             from px join tokens k using (token_id) join pairs p using (condition_id)""",
        {"s": start, "e": end},
    )
    for cid, tid, idx, n, yes, at, price in rows:
        if n == 2:
            series.setdefault((cid, yes), []).append((at, float(price) if idx == 0 else 1.0 - float(price)))
        else:
            series.setdefault((cid, tid), []).append((at, float(price)))
    for points in series.values():
        points.sort()
    return series


def load_fills(conn, start: datetime, end: datetime) -> tuple[dict[str, list], dict[str, datetime]]:
    """condition id -> fills (at, token, price, usdc) in [start, end], and each market's first trade time."""
    fills: dict[str, list] = {}
    for cid, at, tid, price, usdc in conn.execute(
        """select condition_id, traded_at, token_id, price, usdc_size from trades
           where traded_at >= %s and traded_at <= %s and condition_id is not null""", (start, end)):
        fills.setdefault(cid, []).append((at, tid, float(price), float(usdc)))
    first = dict(conn.execute(
        "select condition_id, min(traded_at) from trades where condition_id = any(%s) group by condition_id",
        (list(fills),)).fetchall()) if fills else {}
    return fills, first


def detect_spikes(prices, fills, first_trade, markets, th: SpikeThresholds, evaluate_from=None,
                  quiet: Mapping[str, datetime] | None = None) -> list[Spike]:
    """Every spike in loaded inputs (shared by the asset and the backtest)."""
    out: list[Spike] = []
    for (cid, tid), points in sorted(prices.items()):
        out += price_move_spikes(cid, tid, points, th, markets=markets, evaluate_from=evaluate_from,
                                 quiet_until=(quiet or {}).get(tid))
    for cid, rows in sorted(fills.items()):
        out += volume_spikes(cid, sorted(rows), th, markets=markets, evaluate_from=evaluate_from,
                             first_trade_at=first_trade.get(cid))
    return out


def materialize_spikes(conn, th: SpikeThresholds, *, rescan_from: datetime | None = None) -> dict[str, Any]:
    """One incremental run over prices since the watermark (minus two windows), upserting spikes in place."""
    from psycopg.types.json import Jsonb

    from pm_assets.signals.incremental import TradeWindow, advance_watermark, cursor_name, read_watermark
    from pm_assets.signals.market_inputs import load_markets
    from pm_assets.storage.bulk import copy_upsert

    end = latest_price_time(conn)
    if end is None:
        return {"spikes": 0, "reason": "no prices stored"}
    window = timedelta(minutes=th.window_minutes)
    cursor = cursor_name("price_spikes")
    mark = read_watermark(conn, cursor) if rescan_from is None else None
    start = rescan_from or (mark - 2 * window if mark is not None else earliest_price_time(conn))
    # A move already stored keeps its token quiet, so a replay starting mid-move never stores it twice.
    quiet = dict(conn.execute(
        """select token_id, max(window_end) from price_spikes where kind = 'price_move' and window_end >= %s
           and window_end < %s group by token_id""", (start - window, start)).fetchall())
    quiet = {k: v + window for k, v in quiet.items()}
    states, _rows = load_markets(conn)
    prices = load_prices(conn, start - window, end)
    fills, first = load_fills(conn, start - timedelta(hours=th.baseline_hours) - window, end)
    spikes = detect_spikes(prices, fills, first, states, th, evaluate_from=start, quiet=quiet)
    result = copy_upsert(conn, "price_spikes", ROW_COLUMNS, [(*s.row()[:-1], Jsonb(s.evidence)) for s in spikes],
                         key=["signal_key"], update=[c for c in ROW_COLUMNS if c != "signal_key"])
    if rescan_from is None:
        advance_watermark(conn, TradeWindow(cursor=cursor, ingested_through=end))
    return {"spikes": len(spikes), "suppressed": sum(s.suppressed_reason is not None for s in spikes),
            "inserted": result.inserted, "updated": result.updated, "through": end.isoformat()}
