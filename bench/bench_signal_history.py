"""Incremental signals: time to evaluate 10,000 new trades over 1M and over 10M trades of history (goal ratio < 1.5).

History is generated server-side (generate_series) into a throwaway database at the same density (trades per day)
both times, the larger history reaching ten times further back, and marked as already evaluated (the insider
signals' watermarks sit at its end). The same 10,000 new trades (fixed seed) are then inserted and every insider
signal asset (labels, fresh wallets, size anomalies, clusters, risk) is materialized once; the figure is that run's
wall time. The second measurement tops the history up to the larger size and re-inserts the same new trades.
Usage: pm-intel bench signal_history [--small N] [--large N] [--new N] [--per-day N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import time

import dagster as dg
import psycopg
from psycopg import sql

from bench.scratch import drop_database, scratch_database

MARKETS = 500
WALLETS = 200_000
NOW = "2026-11-20 00:00:00+00"

UNIVERSE_SQL = """
insert into markets (condition_id, market_id, liquidity, volume_24h)
select '0x' || lpad(to_hex(m), 64, '0'), m::text, 1000 + 200000 * random(), 5000 + 500000 * random()
  from generate_series(1, %(markets)s) m;
insert into tokens (token_id, condition_id, outcome, outcome_index, version)
select (m * 2 + o)::text, '0x' || lpad(to_hex(m), 64, '0'), case o when 0 then 'Yes' else 'No' end, o, 'v1'
  from generate_series(1, %(markets)s) m, generate_series(0, 1) o;
insert into wallets (wallet, first_activity_at)
select '0x' || lpad(to_hex(w), 40, '0'),
       case when w %% 50 = 0 then %(now)s::timestamptz - random() * interval '48 hours'
            else %(now)s::timestamptz - (1 + 400 * random()) * interval '1 day' end
  from generate_series(1, %(wallets)s) w
"""

# Trades g in [lo, hi): trade g is g / per_day days before NOW (older as g grows); ingested when traded.
HISTORY_SQL = """
insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price, size,
                    outcome_index, source, ingested_at)
select ts, md5('h' || g), '0x' || md5('t' || g), (m * 2 + o)::text, '0x' || lpad(to_hex(m), 64, '0'),
       '0x' || lpad(to_hex(1 + floor(%(wallets)s * power(random(), 3))::int), 40, '0'),
       case when random() < 0.58 then 'BUY' else 'SELL' end, p,
       exp(2.3 + 1.5 * (random() + random() + random() - 1.5) * 2) / p, o, 'bench', ts
  from (select g, %(now)s::timestamptz - (g::float8 / %(per_day)s) * interval '1 day' - interval '1 hour' as ts,
               1 + floor(%(markets)s * power(random(), 2))::int as m, (random() < 0.4)::int as o,
               round((0.03 + 0.94 * random())::numeric, 3)::float8 as p
          from generate_series(%(lo)s, %(hi)s - 1) g) x
"""

# The new trades: fixed seed, the last hour before NOW, a few fresh wallets, a few large and split positions.
NEW_SQL = """
insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price, size,
                    outcome_index, source, ingested_at)
select ts, md5('n' || g), '0x' || md5('nt' || g), (m * 2 + o)::text, '0x' || lpad(to_hex(m), 64, '0'),
       '0x' || lpad(to_hex(w), 40, '0'), case when random() < 0.58 then 'BUY' else 'SELL' end, p,
       case when g %% 500 = 0 then 20000 / p else exp(2.3 + 1.5 * (random() + random() + random() - 1.5) * 2) / p end,
       o, 'bench', now()
  from (select g, %(now)s::timestamptz - interval '1 hour' + (g::float8 / %(new)s) * interval '1 hour' as ts,
               1 + floor(%(markets)s * power(random(), 2))::int as m, (random() < 0.4)::int as o,
               case when g %% 97 = 0 then 50 * (1 + g %% 40) else 1 + floor(%(wallets)s * power(random(), 3))::int end
                 as w,
               round((0.03 + 0.94 * random())::numeric, 3)::float8 as p
          from generate_series(1, %(new)s) g) x
"""

CURSORS = [
    "signal:wallet_behaviour_labels",
    "signal:fresh_wallet_trades",
    "signal:size_anomalies",
    "signal:wallet_clusters",
    "signal:trade_risk_scores",
]


def grow_history(url: str, lo: int, hi: int, per_day: int) -> float:
    t0 = time.perf_counter()
    step = 1_000_000
    with psycopg.connect(url, autocommit=True) as conn:
        for a in range(lo, hi, step):
            conn.execute(
                HISTORY_SQL,
                {
                    "lo": a,
                    "hi": min(hi, a + step),
                    "per_day": per_day,
                    "now": NOW,
                    "markets": MARKETS,
                    "wallets": WALLETS,
                },
            )
        # Hint bits and the visibility map set once, so neither measurement pays the bulk insert's aftermath.
        conn.execute("vacuum (analyze) trades")
    return time.perf_counter() - t0


def reset_and_add_new(url: str, new: int) -> None:
    """Drop the previous new trades and signal rows; watermarks at the end of history; insert the new trades."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "delete from trades where source = 'bench' and fill_key in "
            "(select md5('n' || g) from generate_series(1, %s) g)",
            (new,),
        )
        for table in (
            "fresh_wallet_trades",
            "size_anomalies",
            "wallet_clusters",
            "wallet_behaviour_labels",
            "trade_risk_scores",
            "wallet_risk_scores",
        ):
            conn.execute(sql.SQL("delete from {}").format(sql.Identifier(table)))
        conn.execute("delete from ingestion_cursors where name = any(%s)", (CURSORS,))
        conn.execute(
            "insert into ingestion_cursors (name, complete_through) select c, max(ingested_at) from trades,"
            " unnest(%s::text[]) c group by c",
            (CURSORS,),
        )
        conn.execute("select setseed(0.42)")
        conn.execute(NEW_SQL, {"now": NOW, "new": new, "markets": MARKETS, "wallets": WALLETS})
        conn.execute("analyze trades")


def evaluate(url: str) -> tuple[float, dict]:
    from pm_assets.resources.warehouse import WarehouseResource
    from pm_assets.signals.insider_assets import ASSETS

    t0 = time.perf_counter()
    result = dg.materialize(ASSETS, resources={"warehouse": WarehouseResource(database_url=url)})
    elapsed = time.perf_counter() - t0
    if not result.success:
        raise RuntimeError("signal run failed")
    with psycopg.connect(url) as conn:
        rows = {
            t: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(t))).fetchone()[0]
            for t in ("fresh_wallet_trades", "size_anomalies", "wallet_clusters", "trade_risk_scores")
        }
    return elapsed, rows


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="pm-intel bench signal_history", description=__doc__.split("\n")[0])
    p.add_argument("--small", type=int, default=1_000_000, help="trades of history, first measurement")
    p.add_argument("--large", type=int, default=10_000_000, help="trades of history, second measurement")
    p.add_argument("--new", type=int, default=10_000, help="new trades evaluated each time")
    p.add_argument("--per-day", type=int, default=100_000, help="history density, trades per day")
    p.add_argument("--repeat", type=int, default=3, help="measured runs per history size (median reported)")
    p.add_argument("--keep-db", action="store_true")
    args = p.parse_args(argv)
    logging.getLogger("dagster").setLevel(logging.ERROR)
    maintenance, url = scratch_database("history")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in UNIVERSE_SQL.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"markets": MARKETS, "wallets": WALLETS, "now": NOW})
        results = []
        done = 0
        for size in (args.small, args.large):
            built = grow_history(url, done, size, args.per_day)
            done = size
            reset_and_add_new(url, args.new)
            with contextlib.redirect_stdout(sys.stderr):
                evaluate(url)  # warm-up: imports, plans and caches, so both figures compare like with like
                runs = []
                for _ in range(args.repeat):
                    reset_and_add_new(url, args.new)
                    runs.append(evaluate(url))
            elapsed = statistics.median(r[0] for r in runs)
            rows = runs[-1][1]
            results.append((size, elapsed, rows))
            print(
                f"history {size:>11,} trades (generated in {built:.0f} s): {args.new:,} new trades evaluated in "
                f"{elapsed:.2f} s (median of {args.repeat}: {', '.join(f'{r[0]:.2f}' for r in runs)}); rows {rows}"
            )
        ratio = results[1][1] / results[0][1]
        print(f"ratio {args.large:,} / {args.small:,} history: {ratio:.2f} (goal < 1.5)")
    finally:
        if not args.keep_db:
            drop_database(maintenance, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
