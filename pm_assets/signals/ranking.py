"""Market rankings: one documented score per open market, materialized per run with its components.

    score = 100 × (0.30·volume + 0.25·liquidity + 0.15·tightness + 0.15·movement + 0.15·activity)

Each component is the market's percentile rank (0 = lowest, 1 = highest, ties share their mean rank) among
the markets ranked in the same run:
- volume: USDC traded in the last 24 h (markets.volume_24h, else the trades table);
- liquidity: markets.liquidity;
- tightness: the spread, reversed (narrowest = 1); markets.spread, else the latest book's ask − bid;
  a market without a spread ranks lowest;
- movement: |price now − price 24 h ago| of the first outcome (trades and price history);
- activity: alert-worthy signals (suppressed_reason null) on the market in the last 24 h, all signal tables.
Percentile ranks keep one whale market from flattening everyone else. Dagster-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

WEIGHTS = {"volume": 0.30, "liquidity": 0.25, "tightness": 0.15, "movement": 0.15, "activity": 0.15}


@dataclass(frozen=True)
class MarketInputs:
    condition_id: str
    volume_24h: float | None
    liquidity: float | None
    spread: float | None
    movement: float | None
    signals_24h: int


def percentile_ranks(values: Sequence[float | None], *, missing: float = 0.0) -> list[float]:
    """Mean-rank percentiles in [0, 1]; None gets `missing`; a single present value gets 1."""
    present = sorted(v for v in values if v is not None)
    n = len(present)
    out = []
    for v in values:
        if v is None:
            out.append(missing)
            continue
        lo = next(i for i, x in enumerate(present) if x == v)
        hi = n - 1 - next(i for i, x in enumerate(reversed(present)) if x == v)
        out.append(1.0 if n == 1 else ((lo + hi) / 2) / (n - 1))
    return out


def rank_markets(markets: Sequence[MarketInputs]) -> list[tuple[str, int, float, dict[str, Any]]]:
    """(condition id, rank, score, components) best first; components hold raw inputs and percentiles."""
    if not markets:
        return []
    pct = {
        "volume": percentile_ranks([m.volume_24h for m in markets]),
        "liquidity": percentile_ranks([m.liquidity for m in markets]),
        "tightness": percentile_ranks([-m.spread if m.spread is not None else None for m in markets]),
        "movement": percentile_ranks([m.movement for m in markets]),
        "activity": percentile_ranks([float(m.signals_24h) if m.signals_24h else None for m in markets]),
    }
    scored = []
    for i, m in enumerate(markets):
        parts = {name: round(pct[name][i], 6) for name in WEIGHTS}
        score = round(100 * sum(WEIGHTS[name] * parts[name] for name in WEIGHTS), 4)
        components = {
            "percentiles": parts,
            "weights": WEIGHTS,
            "inputs": {
                "volume_24h": m.volume_24h,
                "liquidity": m.liquidity,
                "spread": m.spread,
                "movement": m.movement,
                "signals_24h": m.signals_24h,
            },
        }
        scored.append((m.condition_id, score, components))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return [(cid, k + 1, score, comp) for k, (cid, score, comp) in enumerate(scored)]


def load_inputs(conn, now: datetime) -> list[MarketInputs]:
    since = now - timedelta(hours=24)
    activity: dict[str, int] = {}
    from pm_assets.signals.specs import SIGNALS

    for table, column in ((s.table, s.time_column) for s in SIGNALS):
        if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
            continue
        query = sql.SQL(
            "select condition_id, count(*) from {} where suppressed_reason is null and {} >= %s "
            "and {} <= %s and condition_id is not null group by condition_id"
        ).format(sql.Identifier(table), sql.Identifier(column), sql.Identifier(column))
        for cid, n in conn.execute(query, (since, now)):
            activity[cid] = activity.get(cid, 0) + int(n)
    rows = conn.execute(
        """
        with open_markets as (
            select condition_id, volume_24h, liquidity, spread from markets where coalesce(closed, false) = false
        ), yes as (
            select k.condition_id, k.token_id from tokens k join open_markets o using (condition_id)
             where k.outcome_index = 0
        ), px as (
            select y.condition_id, p.ts, p.price from yes y join price_points p on p.token_id = y.token_id
             where p.ts >= %(a)s and p.ts <= %(n)s
            union all
            select y.condition_id, t.traded_at, t.price from yes y join trades t on t.token_id = y.token_id
             where t.traded_at >= %(a)s and t.traded_at <= %(n)s
        ), moves as (
            select condition_id,
                   abs((array_agg(price order by ts desc))[1] - (array_agg(price order by ts))[1]) as movement
              from px group by condition_id
        ), vol as (
            select condition_id, sum(usdc_size) as v from trades
             where traded_at >= %(a)s and traded_at <= %(n)s group by condition_id
        ), book as (
            select distinct on (condition_id) condition_id, best_ask - best_bid as s from order_book_snapshots
             where captured_at <= %(n)s and captured_at >= %(a)s and best_ask is not null and best_bid is not null
             order by condition_id, captured_at desc
        )
        select o.condition_id, coalesce(o.volume_24h, vol.v), o.liquidity, coalesce(o.spread, book.s), moves.movement
          from open_markets o left join moves using (condition_id) left join vol using (condition_id)
          left join book using (condition_id)
        order by o.condition_id
        """,
        {"a": since, "n": now},
    ).fetchall()
    return [
        MarketInputs(cid, _f(v), _f(liq), _f(s), _f(mv), activity.get(cid, 0)) for cid, v, liq, s, mv in rows
    ]


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def materialize_rankings(conn, now: datetime) -> dict[str, Any]:
    from psycopg.types.json import Jsonb

    from pm_assets.storage.bulk import copy_upsert

    ranked = rank_markets(load_inputs(conn, now))
    rows = [(now, cid, rank, score, Jsonb(components)) for cid, rank, score, components in ranked]
    result = copy_upsert(
        conn,
        "market_rankings",
        ("ranked_at", "condition_id", "rank", "score", "components"),
        rows,
        key=["ranked_at", "condition_id"],
        update=["rank", "score", "components"],
    )
    return {
        "ranked": len(rows),
        "inserted": result.inserted,
        "ranked_at": now.isoformat(),
        "top": ranked[0][0] if ranked else None,
    }
