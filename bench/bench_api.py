"""`pm-intel bench api [--trades N] [--markets N] [--export-rows N] [--repeat N] [--keep] [--database NAME]`: the
read-only API's page latency and the memory of its streamed exports, over real HTTP on 127.0.0.1.

Builds a throwaway database on the warehouse's server with bench/bench_dashboards.py's skewed world (hot markets,
whales, signals of every type, deliveries, scorecard rows), plants three markets holding export-rows / 25,
/ 5 and export-rows trades, starts `python -m dashboards.api` on a free loopback port logged in as
pm_intel_reader, and prints:
- p50/p95 per endpoint (pages of 100) against `GET /health` measured in the same run (goal: p95 < 200 ms for a
  page of 100 signals at 10M trades: `--trades 10000000 --markets 50000`);
- per export size, the API process's peak RSS above its idle RSS while a CSV and a Parquet export stream to the
  client (a fresh server per size), and the ratio largest / smallest (goal: flat, about 1, with
  `--export-rows 10000000`).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

import httpx
import psutil
import psycopg
from psycopg import sql

from bench.bench_dashboards import DROP_HELPERS, HELPERS, _cid, _pct, _wallet, _world_sql
from dashboards.api import tokens
from pm_assets.storage import migrate
from pm_assets.storage.database import READER_ROLE, resolve_urls, role_login_url
from pm_assets.storage.settings import load_settings
from pm_assets.storage.urls import libpq_url, with_database

HTTP_TIMEOUT = 600.0  # a whole export of 10M rows is one request


def export_sizes(largest: int) -> list[int]:
    """Three exports, the smallest already several batches (dashboards.api.exports.BATCH_ROWS) long."""
    return sorted({max(1, largest // 25), max(1, largest // 5), largest})


def export_market(k: int) -> str:
    return _cid(2_000_000_000 + k)


def _build(url: str, args: argparse.Namespace) -> list[int]:
    migrate.upgrade(url)
    sizes = export_sizes(args.export_rows)
    print(
        f"world: {args.trades:,} trades, {args.markets:,} markets over {args.days} days; exports of {sizes} rows"
    )
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(HELPERS)
        for statement, params in _world_sql(args.trades, args.markets, args.days):
            conn.execute(statement, params)
        conn.execute(DROP_HELPERS)
        for n in sizes:
            cid = export_market(n)
            conn.execute(
                "insert into markets (condition_id, market_id, question, volume) values (%s, %s, %s, 0)",
                (cid, f"export-{n}", f"Export market with {n} trades"),
            )
            # Quoted and with a formula-like outcome, so the CSV path does its escaping work on every row.
            conn.execute(
                "insert into trades (traded_at, fill_key, transaction_hash, token_id, condition_id, wallet, side,"
                " price, size, outcome, outcome_index, source)"
                " select now() - i * interval '1 second', 'x' || md5(i::text), '0x' || md5(i::text) || md5(i::text),"
                " '7', %s, '0x' || substr(md5(mod(i, 5000)::text), 1, 40), 'BUY', 0.5, 1 + mod(i, 100),"
                " '=Yes, \"quoted\"', 0, 'bench' from generate_series(1, %s) i order by 1",
                (cid, n),
            )
        conn.execute("vacuum analyze")
    print(f"  generated in {time.perf_counter() - started:.1f} s")
    return sizes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def api_server(url: str):
    """`python -m dashboards.api` on a free loopback port, logged in as pm_intel_reader; yields (base, process)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DASHBOARD_EDITOR_DATABASE_URL")}
    env["DASHBOARD_DATABASE_URL"] = role_login_url(url, READER_ROLE)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboards.api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start (exit code {proc.poll()})")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _timed(call: Callable[[], httpx.Response], repeat: int) -> list[float]:
    call()  # warm: plans, pool connections
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = call()
        out.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(
                f"{response.request.url} answered {response.status_code}: {response.text[:200]}"
            )
    return out


def _deep_cursor(client: httpx.Client, path: str, pages: int) -> str | None:
    cursor = None
    for _ in range(pages):
        body = client.get(path, params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return cursor


def time_endpoints(base: str, token: str, repeat: int, markets: int) -> None:
    hot_market, whale = _cid(0), _wallet(0)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=HTTP_TIMEOUT) as client:
        deep_signals = _deep_cursor(client, "/v1/signals/fresh_wallet", 20)
        deep_trades = _deep_cursor(client, f"/v1/markets/{hot_market}/trades", 20)
        endpoints = {
            "signals fresh_wallet, page 1": ("/v1/signals/fresh_wallet", {}),
            "signals fresh_wallet, page 21": ("/v1/signals/fresh_wallet", {"cursor": deep_signals}),
            "signals fresh_wallet, alert-worthy": ("/v1/signals/fresh_wallet", {"suppressed": "hide"}),
            "signals fresh_wallet, hottest market": (
                "/v1/signals/fresh_wallet",
                {"condition_id": hot_market},
            ),
            "signals price_spike, page 1": ("/v1/signals/price_spike", {}),
            "signals arbitrage, page 1": ("/v1/signals/arbitrage", {}),
            "markets, page 1": ("/v1/markets", {}),
            "markets, text search": ("/v1/markets", {"q": "outcome 42"}),
            "market trades, hottest market": (f"/v1/markets/{hot_market}/trades", {}),
            "market trades, hottest, page 21": (f"/v1/markets/{hot_market}/trades", {"cursor": deep_trades}),
            "market trades, typical market": (f"/v1/markets/{_cid(markets // 2)}/trades", {}),
            "wallet trades, biggest whale": (f"/v1/wallets/{whale}/trades", {}),
            "wallets, page 1": ("/v1/wallets", {}),
            "alert deliveries, page 1": ("/v1/alerts/deliveries", {}),
            "scorecard, page 1": ("/v1/scorecard", {}),
        }
        baseline = _timed(lambda: client.get("/health"), max(50, repeat))
        base_p50 = statistics.median(baseline)
        print(f"\nbaseline GET /health: p50 {base_p50:.2f} ms, p95 {_pct(baseline, 0.95):.2f} ms")
        print(f"{'endpoint (limit 100)':<40} {'p50 ms':>8} {'p95 ms':>8} {'p95/base':>9} {'rows':>5}")
        worst_signals = 0.0
        for name, (path, params) in endpoints.items():
            if "cursor" in params and params["cursor"] is None:
                print(f"{name:<40} (fewer than 21 pages: skipped)")
                continue
            query = {"limit": 100, **params}
            rows = len(client.get(path, params=query).json()["items"])
            times = _timed(lambda p=path, q=query: client.get(p, params=q), repeat)
            p95 = _pct(times, 0.95)
            if name.startswith("signals"):
                worst_signals = max(worst_signals, p95)
            print(f"{name:<40} {statistics.median(times):>8.1f} {p95:>8.1f} {p95 / base_p50:>9.0f} {rows:>5}")
        print(f"\nworst p95 of a page of 100 signals: {worst_signals:.1f} ms (goal < 200 ms)")


def _peak_rss_while(proc: psutil.Process, work: Callable[[], int]) -> tuple[int, int, float]:
    """(peak RSS in bytes while `work` runs, what work returned, seconds)."""
    peak, done = proc.memory_info().rss, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, proc.memory_info().rss)
            except psutil.Error:
                return
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return peak, result, time.perf_counter() - t0


def measure_exports(url: str, token: str, sizes: list[int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    print(
        f"\n{'export':<22} {'rows':>11} {'MiB out':>9} {'s':>7} {'rows/s':>9} {'idle RSS':>9} {'peak +RSS':>10}"
    )
    growth: dict[str, list[float]] = {"csv": [], "parquet": []}
    for n in sizes:
        with api_server(url) as (base, popen):
            proc = psutil.Process(popen.pid)
            with httpx.Client(base_url=base, headers=headers, timeout=HTTP_TIMEOUT) as client:
                client.get("/v1/markets", params={"limit": 1})  # warm the pool and the token check
                for fmt in ("csv", "parquet"):
                    idle = proc.memory_info().rss

                    def download(fmt: str = fmt, n: int = n) -> int:
                        total = 0
                        path = f"/v1/markets/{export_market(n)}/trades/export"
                        with client.stream("GET", path, params={"format": fmt}) as response:
                            response.raise_for_status()
                            for chunk in response.iter_raw():
                                total += len(chunk)
                        return total

                    peak, size, seconds = _peak_rss_while(proc, download)
                    grew = (peak - idle) / 2**20
                    growth[fmt].append(grew)
                    print(
                        f"trades {fmt:<15} {n:>11,} {size / 2**20:>9.1f} {seconds:>7.1f} {n / seconds:>9,.0f}"
                        f" {idle / 2**20:>8.0f}M {grew:>9.1f}M"
                    )
    for fmt, values in growth.items():
        smallest, largest = (
            max(values[0], 1.0),
            max(values[-1], 1.0),
        )  # floor 1 MiB: sampling noise below that
        print(
            f"{fmt}: peak RSS growth {values[0]:.1f} MiB at {sizes[0]:,} rows, {values[-1]:.1f} MiB at "
            f"{sizes[-1]:,} rows: ratio {largest / smallest:.2f} (goal: flat, about 1)"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pm-intel bench api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--markets", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument(
        "--export-rows", type=int, default=300_000, help="the largest export (default 300,000)"
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--database", help="reuse a database kept by an earlier --keep run (same sizes)")
    args = parser.parse_args(argv)

    server = libpq_url(with_database(resolve_urls(load_settings()).warehouse, "postgres"))
    name = args.database or f"pm_intel_bench_api_{os.getpid()}"
    url = libpq_url(with_database(server, name))
    if not args.database:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        if args.database:
            migrate.upgrade(url)
            sizes = export_sizes(args.export_rows)
        else:
            sizes = _build(url, args)
        with psycopg.connect(url, autocommit=True) as conn:
            _token_id, token = tokens.create_token(conn, "bench")
        with api_server(url) as (base, _proc):
            time_endpoints(base, token, args.repeat, args.markets)
        measure_exports(url, token, sizes)
    finally:
        if args.keep or args.database:
            print(
                f"kept database {name} (reuse: --database {name} with the same --markets and --export-rows)"
            )
        else:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    return 0
