"""`pm-intel bench dashboards [--trades N] [--markets N] [--repeat N] [--keep]`: how fast each dashboard page's
queries run on a large synthetic warehouse.

Builds a throwaway database on the same server as the warehouse (embedded, or DATABASE_URL's), fills it
server-side with generate_series (skewed: a few hot markets and whales, like the real exchange), refreshes the
0008 rollups (timed: first build and an incremental refresh), then runs every page's statements from
dashboards/queries.py through the read-only reader role, `--repeat` times, and prints p50/p95 per page against
a `select 1` round trip measured in the same run. Goal: p95 < 300 ms per page at 10M trades / 50,000 markets
(`--trades 10000000 --markets 50000`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql
from sqlalchemy import TextClause, text

from pm_assets.storage import migrate
from pm_assets.storage.database import EDITOR_ROLE, READER_ROLE, make_engine, resolve_urls
from pm_assets.storage.settings import load_settings
from pm_assets.storage.urls import libpq_url, with_database

# The synthetic identifiers, as SQL functions (so generation stays plain SQL) mirrored by _cid/_token/_wallet.
HELPERS = """
create function pm_bench_cid(k int) returns text immutable language sql
    as $$ select '0x' || md5(k::text) || md5((k + 1000000000)::text) $$;
create function pm_bench_token(k int, o int) returns text immutable language sql
    as $$ select (1000000000000 + 2 * k + o)::text $$;
create function pm_bench_wallet(k int) returns text immutable language sql
    as $$ select '0x' || md5('w' || k::text || 'x') || substr(md5(k::text), 1, 8) $$;
"""
DROP_HELPERS = "drop function pm_bench_cid(int); drop function pm_bench_token(int, int); drop function pm_bench_wallet(int)"


def _cid(k: int) -> str:
    return (
        "0x"
        + hashlib.md5(str(k).encode()).hexdigest()
        + hashlib.md5(str(k + 1000000000).encode()).hexdigest()
    )


def _wallet(k: int) -> str:
    return "0x" + hashlib.md5(f"w{k}x".encode()).hexdigest() + hashlib.md5(str(k).encode()).hexdigest()[:8]


def _token(k: int) -> str:
    return str(1000000000000 + 2 * k)


def _world_sql(trades: int, markets: int, days: int) -> list[tuple[str, dict]]:
    """Statements that fill the world: plain SQL over generate_series, sizes bound as parameters."""
    wallets = max(1000, trades // 40)
    p = {"t": trades, "m": markets, "w": wallets, "e": max(1, markets // 3), "d": days}
    return [
        (s, p)
        for s in (
            "insert into events (event_id, slug, title, neg_risk, active, closed, tags) select i::text, 'event-' || i,"
            " 'Synthetic event ' || i, mod(i, 7) = 0, true, false, jsonb_build_array(jsonb_build_object('label',"
            " (array['Politics','Sports','Crypto','Economy','Culture'])[1 + mod(i, 5)])) from generate_series(0, %(e)s - 1) i",
            "insert into markets (condition_id, market_id, event_id, version, slug, question, active, closed, volume,"
            " volume_24h, liquidity, best_bid, best_ask, spread, tags) select pm_bench_cid(i), i::text, mod(i, %(e)s)::text,"
            " case when mod(i, 2) = 0 then 'v2' else 'v1' end, 'market-' || i, 'Will synthetic outcome ' || i || ' happen?',"
            " mod(i, 10) <> 0, mod(i, 10) = 0, 1e7 / (i + 1), 1e5 / (i + 1), 1e6 / (i + 10), 0.45, 0.47, 0.02, '[]'"
            " from generate_series(0, %(m)s - 1) i",
            "insert into tokens (token_id, condition_id, outcome, outcome_index, version) select pm_bench_token(i, o),"
            " pm_bench_cid(i), case o when 0 then 'Yes' else 'No' end, o, case when mod(i, 2) = 0 then 'v2' else 'v1' end"
            " from generate_series(0, %(m)s - 1) i, generate_series(0, 1) o",
            # Hot markets and whales: index = floor(n * random()^3).
            "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side, price, size,"
            " outcome, outcome_index, source, ingested_at)"
            " select ts, md5(i::text), '0x' || md5(i::text) || md5(i::text), pm_bench_token(k, o), pm_bench_cid(k),"
            " pm_bench_wallet(wk), case when random() < 0.7 then 'BUY' else 'SELL' end, round((0.02 + random() * 0.96)::numeric, 2),"
            " round((1 + random() * random() * 5000)::numeric, 2), case o when 0 then 'Yes' else 'No' end, o, 'bench',"
            " ts + interval '30 seconds'"
            " from (select i, now() - random() * make_interval(days => %(d)s) as ts,"
            "       floor(%(m)s * power(random(), 3))::int as k, floor(%(w)s * power(random(), 2))::int as wk,"
            "       (random() < 0.4)::int as o from generate_series(1, %(t)s) i) g"
            # Trades arrive in time order upstream, so rows of one day sit together on disk, as in production.
            " order by ts",
            "insert into wallets (wallet, first_activity_at, last_seen_at, trade_count, volume_usdc)"
            " select wallet, min(traded_at) - random() * interval '400 days', max(traded_at), count(*), sum(usdc_size)"
            " from trades group by wallet",
            "insert into order_book_snapshots (captured_at, token_id, condition_id, best_bid, best_ask, spread, mid, bids, asks)"
            " select now() - h * interval '1 hour', pm_bench_token(i, o), pm_bench_cid(i), 0.45, 0.47, 0.02, 0.46,"
            " (select jsonb_agg(jsonb_build_object('price', (0.45 - l * 0.01)::text, 'size', (100 * l)::text))"
            "  from generate_series(0, 9) l),"
            " (select jsonb_agg(jsonb_build_object('price', (0.47 + l * 0.01)::text, 'size', (100 * l)::text))"
            "  from generate_series(0, 9) l)"
            " from generate_series(0, %(m)s - 1) i, generate_series(0, 1) o, generate_series(0, 2) h",
            "insert into price_points (token_id, ts, price) select pm_bench_token(i, 0),"
            " date_trunc('hour', now()) - h * interval '1 hour', 0.3 + 0.4 * random() from generate_series(0, %(m)s - 1) i,"
            " generate_series(0, 24 * 30 - 1) h where i < 2000 or mod(h, 24) = 0",
            "insert into fresh_wallet_trades (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side, price,"
            " usdc_size, wallet_age_hours, prior_trade_count, suppressed_reason, evidence)"
            " select 'fw-' || fill_key, fill_key, traded_at, wallet, condition_id, token_id, side, price, usdc_size,"
            " random() * 100, 0, case when random() < 0.2 then 'low liquidity' end, '{}'"
            " from trades tablesample system (1) where usdc_size > 500 limit %(t)s / 100",
            "insert into size_anomalies (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side, price,"
            " usdc_size, fill_count, anomaly_score, evidence) select 'sa-' || signal_key, fill_key, traded_at, wallet,"
            " condition_id, token_id, side, price, usdc_size, 1, 5, '{}' from fresh_wallet_trades",
            "insert into arbitrage_windows (signal_key, kind, condition_id, opened_at, closed_at, duration_s, peak_edge,"
            " fillable_size, evidence) select 'arb-' || i, 'binary_ask', pm_bench_cid(mod(i, %(m)s)),"
            " now() - i * interval '2 minutes', case when i > 3 then now() - i * interval '2 minutes' + interval '40 s' end,"
            " case when i > 3 then 40 end, 0.01 + random() * 0.03, random() * 2000, '{}'"
            " from generate_series(1, greatest(1000, %(t)s / 500)) i",
            "insert into price_spikes (signal_key, kind, condition_id, token_id, window_start, window_end, price_before,"
            " price_after, move_points, evidence) select 'sp-' || i, 'price_move', pm_bench_cid(mod(i, %(m)s)),"
            " pm_bench_token(mod(i, %(m)s), 0), now() - i * interval '1 minute' - interval '10 minutes',"
            " now() - i * interval '1 minute', 0.3, 0.45, 15, '{}' from generate_series(1, greatest(1000, %(t)s / 200)) i",
            "insert into wallet_clusters (signal_key, condition_id, token_id, started_at, ended_at, wallet_count, wallets,"
            " total_usdc, evidence) select 'wc-' || i, pm_bench_cid(mod(i, %(m)s)), pm_bench_token(mod(i, %(m)s), 0),"
            " now() - i * interval '5 minutes', now() - i * interval '5 minutes' + interval '10 minutes', 3,"
            " array[pm_bench_wallet(i)], 30000, '{}' from generate_series(1, greatest(100, %(t)s / 2000)) i",
            "insert into signal_scorecard (signal_table, signal_key, horizon, condition_id, correct, paper_profit)"
            " select 'fresh_wallet_trades', signal_key, 'settlement', condition_id, random() < 0.5, 100"
            " from fresh_wallet_trades where random() < 0.5",
            "insert into market_rankings (ranked_at, condition_id, rank, score, components)"
            " select date_trunc('hour', now()) - r * interval '1 hour', pm_bench_cid(i), i + 1, 100 - i * 0.001, '{}'"
            " from generate_series(0, 23) r, generate_series(0, %(m)s - 1) i",
            "insert into stream_health (connection_id, event, started_at, messages) select 'ws-' || (i / 100),"
            " (array['stats','gap','connect'])[1 + mod(i, 3)], now() - i * interval '1 minute', 100 from generate_series(1, 20000) i",
            "insert into raw_payloads (fetched_at, source, endpoint, status_code) select now() - i * interval '10 seconds',"
            " 'data_api', '/v2/trades', case when mod(i, 50) = 0 then 429 else 200 end from generate_series(1, 100000) i",
            "insert into heartbeats (part, last_beat_at) values ('stream_consumer', now()), ('alert_delivery', now())",
            "insert into alert_rules (name, signal_type, destination_kind, webhook_url) select 'rule ' || i,"
            " 'fresh_wallet', 'json', 'https://93.184.216.34/hook/' || i from generate_series(1, 20) i",
            "insert into alert_deliveries (rule_id, signal_table, signal_key, status, created_at) select 1 + mod(i, 20),"
            " 'fresh_wallet_trades', 'k' || i, (array['delivered','failed','pending'])[1 + mod(i, 3)],"
            " now() - i * interval '1 minute' from generate_series(1, 50000) i",
        )
    ]


def _pages(since_30d: datetime, since_24h: datetime, hot_wallet: str, some_k: int, hint: datetime) -> dict:
    import streamlit.logger

    streamlit.logger.set_log_level("error")  # "no runtime" warnings: the statements run here without the app
    from dashboards import queries as q
    from dashboards.signal_types import SIGNAL_TYPES

    def sig(table, **kw):
        return (
            q.signal_select(
                table,
                market="condition_id" in kw,
                wallet="wallet" in kw,
                suppressed=kw.pop("suppressed", "show"),
            ),
            {"since": kw.pop("since"), **kw},
        )

    hot_market, some_market = _cid(0), _cid(some_k)
    search = {
        "pattern": None,
        "term": "",
        "event_pattern": None,
        "tag": None,
        "status": "active",
        "min_volume": 0,
        "min_liquidity": 0,
        "max_spread": None,
        "limit": 300,
    }
    market_pages = lambda cid, token: [  # noqa: E731 - a table of statements reads better inline
        (q.MARKET, {"condition_id": cid}),
        (q.MARKET_TOKENS, {"condition_id": cid}),
        (q.PRICE_HISTORY, {"token_id": token, "since": since_30d}),
        (q.LATEST_BOOK, {"token_id": token}),
        (q.MARKET_TRADES, {"condition_id": cid, "limit": 100}),
        (q.WATERMARK, {}),
        (q.TOP_HOLDERS, {"condition_id": cid, "limit": 20, "hint": hint}),
        (q.MARKET_DAILY_VOLUME, {"condition_id": cid, "hint": hint}),
        *[
            sig(k.table, since=since_30d - timedelta(days=335), condition_id=cid, limit=500)
            for k in SIGNAL_TYPES
            if k.has_market
        ],
    ]
    return {
        "overview": [
            (q.LATEST_RANKINGS, {"limit": 25}),
            (q.TRADES_24H, {}),
            (q.LIVE_ARBITRAGE, {}),
            (q.TABLE_FRESHNESS, {}),
            *[sig(k.table, since=since_30d, suppressed="hide", limit=10) for k in SIGNAL_TYPES],
        ],
        "markets": [
            (q.TAGS, {}),
            (q.SEARCH_MARKETS, search),
            (q.SEARCH_MARKETS, {**search, "pattern": "%outcome 4242%", "term": "outcome 4242"}),
            (q.SEARCH_MARKETS, {**search, "tag": "Crypto", "status": "all", "min_liquidity": 100.0}),
        ],
        "market drilldown (hottest market)": market_pages(hot_market, _token(0)),
        "market drilldown (typical market)": market_pages(some_market, _token(some_k)),
        "wallets": [(q.wallet_ranking(o), {"limit": 100}) for o in ("volume", "novelty", "signals")],
        "wallet drilldown (biggest whale)": [
            (q.WALLET, {"wallet": hot_wallet}),
            (q.WALLET_TRADES, {"wallet": hot_wallet, "limit": 200}),
            (q.WALLET_POSITIONS, {"wallet": hot_wallet, "limit": 500, "hint": hint}),
            (q.wallet_scorecard_select(), {"wallet": hot_wallet}),
            *[
                sig(k.table, since=since_30d - timedelta(days=1800), wallet=hot_wallet, limit=500)
                for k in SIGNAL_TYPES
                if k.has_wallet
            ],
        ],
        "signals": [sig(k.table, since=since_30d, limit=1000) for k in SIGNAL_TYPES],
        "arbitrage": [(q.ARBITRAGE_WINDOWS, {"since": since_30d, "state": "all", "limit": 5000})],
        "alerts": [
            (q.ALERT_RULES, {}, "editor"),
            (q.DELIVERIES, {"status": "all", "limit": 200}),
            (q.OVERRIDES, {}),
        ],
        "pipeline": [
            (q.STREAM_HEALTH, {"since": since_24h}),
            (q.HEARTBEATS, {}),
            (q.RATE_LIMITS, {"since": since_24h}),
            (q.LOSS_EVENTS, {}),
        ],
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pm-intel bench dashboards", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--markets", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=90, help="trades spread over this many past days")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--database", help="time the pages on a database kept by an earlier --keep run")
    args = parser.parse_args(argv)

    os.environ.setdefault("PM_INTEL_DAGSTER_URL", "http://127.0.0.1:3000")
    server = libpq_url(with_database(resolve_urls(load_settings()).warehouse, "postgres"))
    name = args.database or f"pm_intel_bench_dashboards_{os.getpid()}"
    url = libpq_url(with_database(server, name))
    if not args.database:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        if not args.database:
            _build(url, args)
        _time_pages(url, args)
    finally:
        if args.keep or args.database:
            print(f"kept database {name} (reuse: --database {name} --markets {args.markets})")
        else:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    return 0


def _build(url: str, args: argparse.Namespace) -> None:
    migrate.upgrade(url)
    print(f"world: {args.trades:,} trades, {args.markets:,} markets over {args.days} days")
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(HELPERS)
        for statement, params in _world_sql(args.trades, args.markets, args.days):
            conn.execute(statement, params)
        conn.execute(DROP_HELPERS)
        conn.execute("vacuum analyze")
        print(f"  generated in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        built = dict(conn.execute("select * from pm_refresh_dashboard_rollups()").fetchall())
        print(f"  rollups first build: {time.perf_counter() - started:.1f} s ({built})")
        conn.execute(
            "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side,"
            " price, size, outcome, outcome_index, source) select now() - random() * interval '1 hour',"
            " 'late-' || fill_key, transaction_hash, token_id, condition_id, wallet, side, price, size,"
            " outcome, outcome_index, source from trades tablesample system (0.1) limit 10000"
        )
        started = time.perf_counter()
        again = dict(conn.execute("select * from pm_refresh_dashboard_rollups()").fetchall())
        print(
            f"  rollups incremental refresh after 10,000 new trades: "
            f"{time.perf_counter() - started:.2f} s ({again})"
        )
        conn.execute("analyze")


def _time_pages(url: str, args: argparse.Namespace) -> None:
    hot_wallet, hot_market = _wallet(0), _cid(0)
    with psycopg.connect(url) as conn:
        hot_trades = conn.execute(
            "select count(*) from trades where condition_id = %s", (hot_market,)
        ).fetchone()[0]
        whale_trades = conn.execute(
            "select count(*) from trades where wallet = %s", (hot_wallet,)
        ).fetchone()[0]
        total = conn.execute("select count(*) from trades").fetchone()[0]
    print(
        f"  {total:,} trades; hottest market: {hot_trades:,} trades; biggest whale: {whale_trades:,} trades"
    )
    engine = make_engine(url, role=READER_ROLE, read_only=True)
    editor = make_engine(url, role=EDITOR_ROLE)
    now = datetime.now(UTC)
    with engine.connect() as conn:
        hint = conn.execute(text("select max(complete_through) from rollup_watermarks")).scalar_one()
    pages = _pages(now - timedelta(days=30), now - timedelta(days=1), hot_wallet, args.markets // 2, hint)
    from dashboards import queries

    names = {id(v): k for k, v in vars(queries).items() if isinstance(v, TextClause)}
    with engine.connect() as conn, editor.connect() as editor_conn:
        baseline = []
        for _ in range(max(50, args.repeat)):
            t0 = time.perf_counter()
            conn.execute(text("select 1")).fetchall()
            baseline.append((time.perf_counter() - t0) * 1000)
        base_p50 = statistics.median(baseline)
        print(f"\nbaseline `select 1` round trip: p50 {base_p50:.2f} ms, p95 {_pct(baseline, 0.95):.2f} ms")
        print(
            f"{'page':<36} {'queries':>7} {'p50 ms':>9} {'p95 ms':>9} {'p95/base':>9}  slowest query (p95 ms)"
        )
        worst = 0.0
        for page, statements in pages.items():
            totals, per_query = [], [[] for _ in statements]
            for run in range(args.repeat + 1):
                total = 0.0
                for n, (stmt, params, *role) in enumerate(statements):
                    t0 = time.perf_counter()
                    (editor_conn if role else conn).execute(stmt, params).fetchall()
                    ms = (time.perf_counter() - t0) * 1000
                    total += ms
                    if run:  # the first run warms caches and plans
                        per_query[n].append(ms)
                if run:
                    totals.append(total)
                conn.rollback()
                editor_conn.rollback()
            slow = max(range(len(statements)), key=lambda n: _pct(per_query[n], 0.95))
            p95 = _pct(totals, 0.95)
            worst = max(worst, p95)
            label = (
                names.get(id(statements[slow][0])) or str(statements[slow][0]).strip().splitlines()[0][:40]
            )
            print(
                f"{page:<36} {len(statements):>7} {statistics.median(totals):>9.1f} {p95:>9.1f}"
                f" {p95 / base_p50:>9.0f}  {label} ({_pct(per_query[slow], 0.95):.1f})"
            )
        print(f"\nworst page p95: {worst:.1f} ms (goal < 300 ms)")
    engine.dispose()
    editor.dispose()
