"""Signals against pm_sim's ground truth: precision, recall, alerts per planted event, planted noise let through.

A seeded pm_sim world (planted insiders, coordinated entries, split buys, sweeps, market makers, spikes,
arbitrage) is loaded through the real ingestion assets (events, markets/tokens, trades by day partition, wallets
with first activity, order book snapshots) into a scratch database; every signal asset runs at default thresholds;
then the sim clock is stepped through the live part of the world, with the trade live-edge poll, wallets, books
and signals after each step, which gives the time from a planted trade becoming visible to its signal row.
Market signals are scored by bench/scoring_market.py when it exists; otherwise they are reported "not built".
Usage: pm-intel bench signals [--json] [--markets 100] [--seed 7] [--history-hours 12] [--live-steps 8]
       [--step-minutes 15] [--tps 2] [--keep-db] [--dump-fp FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
from psycopg import sql

from bench.scoring_insider import (
    background_alerts,
    detection_latencies,
    ingest_to_signal,
    score_insider_signals,
)
from bench.scratch import drop_database, scratch_database

MARKET_TABLES = ("arbitrage_windows", "price_spikes")
MARKET_ERRORS: dict[str, str] = {}  # market asset -> why its run failed in this bench


def _resources(sim, url: str) -> dict:
    from pm_assets.resources.clob import ClobClient
    from pm_assets.resources.data_api import DataApiClient
    from pm_assets.resources.gamma import GammaClient
    from pm_assets.resources.warehouse import WarehouseResource

    return {
        "warehouse": WarehouseResource(database_url=url),
        "gamma": GammaClient(base_url=sim.gamma_url),
        "clob": ClobClient(base_url=sim.clob_url),
        "data_api": DataApiClient(base_url=sim.data_url),
    }


WALLETS_CONFIG = {
    "ops": {
        "wallets": {"config": {"first_activity_min_trade_usdc": 250.0, "max_first_activity_lookups": 20000}}
    }
}


def load_history(sim, url: str) -> dict:
    """Universe, every day of trades so far, wallets with first activity, one book snapshot round."""
    from pm_assets.books.assets import order_book_snapshots
    from pm_assets.markets.assets import events, markets_and_tokens
    from pm_assets.trades.assets import trades
    from pm_assets.wallets.assets import wallets

    res = _resources(sim, url)
    timings = {}
    t0 = time.perf_counter()
    _ok(dg.materialize([events, markets_and_tokens], resources=res))
    timings["universe_s"] = time.perf_counter() - t0
    now = datetime.fromtimestamp(sim.sim.now(), UTC)
    first = datetime.fromtimestamp(sim.world.history_start, UTC)
    day = first.date()
    t0 = time.perf_counter()
    while day <= now.date():
        _ok(dg.materialize([trades], resources=res, partition_key=day.isoformat()))
        day += timedelta(days=1)
    timings["trades_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ok(dg.materialize([wallets], resources=res, run_config=WALLETS_CONFIG))
    _ok(dg.materialize([order_book_snapshots], resources=res))
    timings["wallets_books_s"] = time.perf_counter() - t0
    return timings


def live_step(sim, url: str) -> None:
    """What production does after new trades: live-edge poll, wallets, books; the signals run after."""
    from pm_assets.books.assets import order_book_snapshots
    from pm_assets.trades.live_edge import poll_live_edge
    from pm_assets.trades.loading import run_trade_load
    from pm_assets.wallets.assets import wallets

    res = _resources(sim, url)
    # The live pass's feed step (pm_sensors/live/live_pass.py); its signals step is `run_signals` below.
    run_trade_load(
        res["data_api"], res["warehouse"].connect, lambda session, writer: poll_live_edge(session, writer)
    )
    _ok(dg.materialize([order_book_snapshots], resources=res))
    _ok(dg.materialize([wallets], resources=res, run_config=WALLETS_CONFIG))


def run_signals(url: str, sim) -> float:
    from pm_assets.signals.insider_assets import ASSETS

    res = _resources(sim, url)
    t0 = time.perf_counter()
    _ok(dg.materialize(ASSETS, resources={"warehouse": res["warehouse"]}))
    market = _market_assets()
    if market:
        try:  # the other workstream's assets: their failure is reported with their scores, not raised
            result = dg.materialize(market, resources=res, raise_on_error=False)
            for e in result.all_events:
                if e.is_step_failure:
                    cause = e.event_specific_data.error.cause or e.event_specific_data.error
                    MARKET_ERRORS[e.step_key] = cause.message.strip().splitlines()[-1][:200]
        except Exception as exc:  # noqa: BLE001
            for table in MARKET_TABLES:
                MARKET_ERRORS[table] = str(exc)[:200]
    return time.perf_counter() - t0


def _market_assets() -> list:
    try:
        from pm_assets.signals import market_assets
    except ImportError:
        return []
    return [a for a in getattr(market_assets, "assets", []) if a.key.to_user_string() in MARKET_TABLES]


def _ok(result: dg.ExecuteInProcessResult) -> None:
    if not result.success:
        raise RuntimeError("materialization failed")


def market_scores(conn: psycopg.Connection, truth: list[dict]) -> dict:
    try:
        scoring = importlib.import_module("bench.scoring_market")
    except ImportError:
        return {
            t: {
                "status": "not built",
                "precision": None,
                "recall": None,
                "alerts_per_event": None,
                "noise_passed": None,
            }
            for t in MARKET_TABLES
        }
    return scoring.score_market_signals(conn, truth)


def evaluate_world(sim, url: str, live_steps: int, step_s: float, dump_fp: str | None = None) -> dict:
    """Load the sim's history, run the signals, step the clock through the live part, score everything."""
    timings = load_history(sim, url)
    timings["signals_first_run_s"] = run_signals(url, sim)
    visible_at: dict[int, float] = {}
    pending = [r for r in sim.sim.truth if r["start_ts"] > sim.sim.now()]
    step_times = []
    for _ in range(live_steps):
        sim.advance(step_s)
        now_sim, now_wall = sim.sim.now(), time.time()
        for r in pending:
            if r["start_ts"] <= now_sim and r["start_ts"] not in visible_at:
                visible_at[r["start_ts"]] = now_wall
        t0 = time.perf_counter()
        live_step(sim, url)
        run_signals(url, sim)
        step_times.append(time.perf_counter() - t0)
    truth = [r for r in sim.sim.truth if r["start_ts"] <= sim.sim.now()]
    with psycopg.connect(url) as conn:
        scores = score_insider_signals(conn, truth)
        scores.update(market_scores(conn, truth))
        for table, error in MARKET_ERRORS.items():
            scores.setdefault(table, {})["run_error"] = error
        latencies = detection_latencies(conn, truth, visible_at)
        ingest_latencies = ingest_to_signal(conn, truth)
        if dump_fp:
            with open(dump_fp, "w") as fh:
                for table in ("fresh_wallet_trades", "size_anomalies", "wallet_clusters"):
                    for row in background_alerts(conn, table, truth):
                        fh.write(json.dumps(row, default=str) + "\n")
        truth_path = os.environ.get("PM_INTEL_BENCH_TRUTH_OUT")
        if truth_path:
            with open(truth_path, "w") as fh:
                json.dump(truth, fh)
        counts = {
            t: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(t))).fetchone()[0]
            for t in ("trades", "wallets", "fresh_wallet_trades", "size_anomalies", "wallet_clusters")
        }
    return {
        "signals": scores,
        "latencies": latencies,
        "ingest_latencies": ingest_latencies,
        "timings": timings,
        "step_times": step_times,
        "counts": counts,
        "truth": {k: sum(1 for r in truth if r["kind"] == k) for k in sorted({r["kind"] for r in truth})},
    }


def sim_options(seed: int, markets: int, history_hours: float, tps: float, live_hours: float) -> dict:
    return {
        "seed": seed,
        "markets": markets,
        "history_hours": history_hours,
        "trades_per_second": tps,
        "horizon_hours": live_hours + 0.3,
        "speed": 0.0,
        "rate_limits": False,
    }


def streamed_market_scores(seed: int) -> dict:
    """Arbitrage and spikes need the books as the stream stores them (windows last seconds to minutes; REST
    snapshots every step cannot see them), which this bench's polling loop does not run. They are scored on the
    same seed's world loaded with the books the stream would have stored (bench.scoring_market)."""
    scoring = importlib.import_module("bench.scoring_market")
    options = argparse.Namespace(markets=100, history_hours=2.0, horizon_hours=6.0, ws_rate=2.0)
    figures = scoring.run_seed(seed, options, verbose=False)
    for table in MARKET_TABLES:
        figures[table]["world"] = f"books as streamed (bench.scoring_market, seed {seed}, 100 markets)"
    return figures


def run(args) -> dict:
    from pm_sim.testing import running_sim

    maintenance, url = scratch_database("signals")
    step_s = args.step_minutes * 60
    try:
        with running_sim(
            **sim_options(
                args.seed, args.markets, args.history_hours, args.tps, args.live_steps * step_s / 3600
            )
        ) as sim:
            return evaluate_world(sim, url, args.live_steps, step_s, args.dump_fp)
    finally:
        if args.keep_db:
            print(f"kept scratch database {url.rsplit('/', 1)[1]}", file=sys.stderr)
        else:
            drop_database(maintenance, url)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="pm-intel bench signals", description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("--markets", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--history-hours", type=float, default=12.0)
    p.add_argument("--tps", type=float, default=2.0, help="pm_sim trades per second")
    p.add_argument("--live-steps", type=int, default=8)
    p.add_argument("--step-minutes", type=float, default=15.0)
    p.add_argument("--keep-db", action="store_true", help="keep the scratch database for inspection")
    p.add_argument(
        "--dump-fp",
        metavar="FILE",
        help="write the insider alerts that match no planted event (JSON lines, with their evidence) to FILE",
    )
    args = p.parse_args(argv)
    logging.getLogger("dagster").setLevel(logging.ERROR)
    os.environ.setdefault("DAGSTER_HOME", os.path.join(os.getcwd(), ".pm-intel", "dagster"))
    with contextlib.redirect_stdout(sys.stderr):
        out = run(args)
        for table, figures in streamed_market_scores(args.seed).items():
            rest_only = out["signals"].get(table)
            out["signals"][table] = {**figures, "rest_snapshots_only": rest_only}
    if args.json:
        print(json.dumps({"signals": out["signals"]}))
        return 0
    print(
        f"world: seed {args.seed}, {args.markets} markets, {args.history_hours} h history + "
        f"{args.live_steps} live steps of {args.step_minutes} min; rows {out['counts']}"
    )
    print(f"planted: {out['truth']}")
    print(f"{'signal':22} {'precision':>9} {'recall':>7} {'alerts/event':>12} {'noise':>6}  detail")
    for table, s in out["signals"].items():

        def f(v):
            return "—" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

        extra = (
            s.get("status")
            or (f"asset run failed: {s['run_error']}" if s.get("run_error") else None)
            or (
                f"{s.get('alerts')} alerts, {s.get('detected_events')}/{s.get('target_events')}"
                f" events {s.get('recall_by_kind', '')}"
            )
        )
        print(
            f"{table:22} {f(s['precision']):>9} {f(s['recall']):>7} {f(s['alerts_per_event']):>12} "
            f"{f(s['noise_passed']):>6}  {extra}"
        )
    lat = out["latencies"]
    if lat:
        print(
            f"planted trade visible -> signal row: median {statistics.median(lat):.1f} s, max {max(lat):.1f} s "
            f"over {len(lat)} live events (one live step = live-edge poll + wallets + books + signals)"
        )
    else:
        print("planted trade visible -> signal row: no planted event fell in the live steps")
    ing = out["ingest_latencies"]
    if ing:
        print(
            f"planted trade ingested -> signal row: median {statistics.median(ing):.1f} s, max {max(ing):.1f} s "
            f"over {len(ing)} detected events (history events include the bulk load's queue)"
        )
    print(
        "timings: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in out["timings"].items())
        + f"; live step median {statistics.median(out['step_times']):.1f} s"
        if out["step_times"]
        else ""
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
