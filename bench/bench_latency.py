"""Trade-to-alert latency against pm_sim: upstream trade time -> webhook at a local receiver, p50/p95 per mode.

pm_sim runs at speed 1 with its clock anchored at wall time, so a fill's upstream time and the receiver's clock
agree. The production path runs as in production: the live driver (`live_job`'s `LiveDriver`, a thread here,
its periodic tasks off) does a live pass (feed's live edge -> wallet ages -> insider signals -> delivery to a
local receiver) on each wake;
- `poll` mode: no stream; the driver wakes every `--poll-interval` s (its production default, 5 s);
- `stream` mode adds `stream_consumer_job` in its own process, as the supervisor launches it: each stored
  `last_trade_price` batch NOTIFYs the driver, which wakes at once.
Latency per delivered alert comes from `alert_deliveries` (upstream_at, ingested_at, signal_at, delivered_at),
for alerts whose trade happened during the measured window. Baseline, same run: a bare POST of an alert payload
to the same receiver. Goals: stream p95 < 5 s, polling p95 < 60 s.
Scratch database on DATABASE_URL's server (or the embedded one), migrated, dropped afterwards.
Usage: pm-intel bench latency [--modes stream,poll] [--seconds 150] [--markets 200] [--tps 12]
       [--poll-interval 5] [--setup-s 60] [--json] [--keep-db]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import dagster as dg
import httpx
import psycopg

from bench.scratch import drop_database, scratch_database
from pm_sensors.live.job import LiveDriverConfig

GOALS_S = {"stream": 5.0, "poll": 60.0}
POLL_INTERVAL_S = LiveDriverConfig().poll_interval_s  # the live driver's production timer
# pm_sim plants its events in [history start + 900 s, horizon end - 900 s]: sized so they fall in the window.
PLANT_PAD_S = 900.0
SIGNAL_TYPES = ("fresh_wallet", "size_anomaly", "wallet_cluster", "watched_wallet")
# watched_wallet: the planted events' wallets go on a watchlist (any trade alerts), as a user would list them.
WATCHED_KINDS = ("fresh_wallet_insider", "split_buy", "coordinated_entry")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _resources(sim, url: str) -> dict:
    from pm_assets.resources.clob import ClobClient
    from pm_assets.resources.data_api import DataApiClient
    from pm_assets.resources.gamma import GammaClient
    from pm_assets.resources.warehouse import WarehouseResource
    from pm_sensors.alerts.delivery_resource import AlertDeliveryResource

    return {
        "warehouse": WarehouseResource(database_url=url),
        "gamma": GammaClient(base_url=sim.gamma_url),
        "clob": ClobClient(base_url=sim.clob_url),
        "data_api": DataApiClient(base_url=sim.data_url),
        "alert_delivery": AlertDeliveryResource(allow_private_webhooks=True),
    }


def _ok(result) -> None:
    if not result.success:
        raise RuntimeError("materialization failed")


class Pipeline:
    def __init__(self, sim, url: str, instance: dg.DagsterInstance):
        self.sim, self.url, self.instance, self.res = sim, url, instance, _resources(sim, url)

    def load_universe(self) -> None:
        from pm_assets.markets.assets import events, markets_and_tokens

        _ok(dg.materialize([events, markets_and_tokens], resources=self.res, instance=self.instance))

    def driver(self, poll_interval_s: float):
        from pm_sensors.live.driver import LiveDriver

        return LiveDriver(
            self.res["warehouse"],
            self.res["data_api"],
            self.res["clob"],
            self.res["alert_delivery"].settings(),
            instance=self.instance,
            run_id="bench",
            poll_interval_s=poll_interval_s,
            tasks=(),
        )


class SimProcess:
    """pm_sim in its own process (as upstream is): the pipeline's threads do not share its interpreter."""

    def __init__(self, args):
        self.start = float(int(time.time()))
        cmd = [
            sys.executable,
            "-m",
            "pm_sim",
            "--print-json",
            "--speed",
            "1",
            "--start",
            str(self.start),
            "--seed",
            str(args.seed),
            "--markets",
            str(args.markets),
            "--trades-per-second",
            str(args.tps),
            "--history-hours",
            str((PLANT_PAD_S - args.setup_s) / 3600),
            "--horizon-hours",
            str((args.seconds + args.setup_s + PLANT_PAD_S) / 3600),
            "--data-v1",
            "off",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("pm_sim did not start")
        for key, value in json.loads(line).items():
            setattr(self, key, value)
        # pm_sim starts its clock at `start` once its world is built, a few seconds after `start` on the wall:
        # every upstream time is that much behind the wall clock the deliveries are stamped with, and every
        # latency figure includes it. Printed beside the figures, not subtracted from them.
        self.clock_lag_s = time.time() - httpx.get(self.admin_url + "/state", timeout=120).json()["now"]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run_mode(mode: str, args) -> dict:
    from pm_sensors.alerts.receiver import running_receiver

    maintenance, url = scratch_database(f"latency_{mode}")
    sim = SimProcess(args)
    try:
        with running_receiver() as receiver, dg.instance_for_test() as instance:
            p = Pipeline(sim, url, instance)
            p.load_universe()
            driver = p.driver(args.poll_interval)
            driver.pass_once()  # the history the first poll brought in: not measured
            watch_planted(sim, url)
            with psycopg.connect(url) as conn:
                for signal_type in SIGNAL_TYPES:
                    conn.execute(
                        "insert into alert_rules (name, signal_type, filters, destination_kind, webhook_url) "
                        "values (%s, %s, '{}', 'json', %s)",
                        (f"bench {signal_type}", signal_type, receiver.url(f"/{signal_type}")),
                    )
            driver.pass_once()
            passes_before = driver.passes
            window_start = datetime.now(UTC)
            setup_s = time.time() - sim.start
            stop = threading.Event()
            # Run until the planted events are over, then give the slowest path time to deliver them.
            end = sim.start + args.setup_s + args.seconds + max(GOALS_S[mode], 2 * args.poll_interval) + 15.0
            consumer = _start_consumer(sim, url, end - time.time()) if mode == "stream" else None
            runner = threading.Thread(target=driver.run, args=(stop, end - time.time()), daemon=True)
            runner.start()
            runner.join()
            window_end = datetime.fromtimestamp(sim.start + args.setup_s + args.seconds, UTC)
            if consumer is not None:
                consumer[1]()
            baseline = post_baseline(receiver.url("/baseline"), args.baseline_posts)
            return {
                "mode": mode,
                "setup_s": round(setup_s, 1),
                "sim_clock_lag_s": round(sim.clock_lag_s, 2),
                **measured(url, window_start, window_end),
                "baseline_post_s": baseline,
                "live_passes": driver.passes - passes_before,
                "woken_by_notify": driver.woken_by_notify,
                "failed_passes": driver.failures,
                "pass_step_s": driver.timings(),
            }
    finally:
        sim.close()
        if not args.keep_db:
            drop_database(maintenance, url)


def watch_planted(sim, url: str) -> int:
    """A watchlist of the wallets behind pm_sim's planted events (any trade alerts); returns how many."""
    records = httpx.get(sim.admin_url + "/ground-truth", params={"all": 1}, timeout=120).json()["records"]
    wallets = sorted(
        {w for r in records if r["kind"] in WATCHED_KINDS for w in (r.get("wallets") or [r["wallet"]]) if w}
    )
    with psycopg.connect(url) as conn:
        (wid,) = conn.execute(
            "insert into watchlists (name, min_position_usdc) values ('bench planted', 0) returning watchlist_id"
        ).fetchone()
        conn.execute(
            "insert into watchlist_wallets (watchlist_id, wallet) select %s, unnest(%s::text[])",
            (wid, wallets),
        )
    return len(wallets)


def _consume(ws_url: str, data_url: str, url: str, seconds: float) -> None:
    """`stream_consumer_job` as the supervisor launches it, for `seconds`."""
    from pm_assets.resources.warehouse import WarehouseResource
    from pm_sensors.stream.job import StreamSettingsResource, stream_consumer_job

    logging.disable(logging.WARNING)
    with dg.instance_for_test() as instance:
        stream_consumer_job.execute_in_process(
            instance=instance,
            run_config={
                "ops": {"run_stream_consumer": {"config": {"selection": "active", "max_runtime_s": seconds}}}
            },
            resources={
                "warehouse": WarehouseResource(database_url=url),
                "stream_settings": StreamSettingsResource(ws_url=ws_url),
            },
        )


def _start_consumer(sim, url: str, seconds: float):
    """The stream run in its own process, as the daemon launches it."""
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_consume, args=(sim.ws_url, sim.data_url, url, seconds), daemon=True)
    proc.start()

    def halt() -> None:
        proc.join(timeout=120)
        if proc.is_alive():
            proc.terminate()

    return proc, halt


def measured(url: str, window_start: datetime, window_end: datetime) -> dict:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select signal_table, extract(epoch from delivered_at - upstream_at), "
            "extract(epoch from ingested_at - upstream_at), extract(epoch from signal_at - ingested_at), "
            "extract(epoch from delivered_at - signal_at) from alert_deliveries "
            "where status = 'delivered' and upstream_at >= %s and upstream_at < %s",
            (window_start, window_end),
        ).fetchall()
        pending = conn.execute(
            "select count(*) from alert_deliveries where status <> 'delivered' "
            "and upstream_at >= %s and upstream_at < %s",
            (window_start, window_end),
        ).fetchone()[0]
    total = [float(r[1]) for r in rows]

    def stage(i: int) -> float | None:
        values = [float(r[i]) for r in rows if r[i] is not None]
        return round(statistics.median(values), 3) if values else None

    return {
        "alerts": len(rows),
        "not_delivered": pending,
        "by_table": {t: sum(1 for r in rows if r[0] == t) for t in sorted({r[0] for r in rows})},
        "p50_s": percentile(total, 0.5),
        "p95_s": percentile(total, 0.95),
        "p99_s": percentile(total, 0.99),
        "p95_by_table_s": {
            t: percentile([float(r[1]) for r in rows if r[0] == t], 0.95)
            for t in sorted({r[0] for r in rows})
        },
        "median_stage_s": {
            "upstream_to_ingested": stage(2),
            "ingested_to_signal": stage(3),
            "signal_to_delivered": stage(4),
        },
    }


def post_baseline(url: str, posts: int) -> dict:
    payload = {"text": "Fresh wallet trade: wallet first active 3 h before this $48,200 buy of YES at 0.12"}
    times = []
    with httpx.Client() as client:
        for _ in range(posts):
            t0 = time.perf_counter()
            client.post(url, json=payload).raise_for_status()
            times.append(time.perf_counter() - t0)
    return {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="pm-intel bench latency", description=__doc__.splitlines()[0])
    p.add_argument("--modes", default="stream,poll")
    p.add_argument(
        "--seconds", type=float, default=150.0, help="window of upstream trade times measured per mode"
    )
    p.add_argument(
        "--markets", type=int, default=200, help="pm_sim's default world (8 planted events per kind)"
    )
    p.add_argument("--setup-s", type=float, default=60.0, help="sim seconds before the window (loading)")
    p.add_argument("--tps", type=float, default=12.0, help="pm_sim trades/s (its default rate is 12)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--poll-interval",
        type=float,
        default=POLL_INTERVAL_S,
        help="the live driver's timer when nothing wakes it (its production default)",
    )
    p.add_argument("--baseline-posts", type=int, default=50)
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.disable(logging.WARNING)  # in-process runs log every step; the figures are what this prints
    os.environ.setdefault("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")
    results = [run_mode(mode.strip(), args) for mode in args.modes.split(",") if mode.strip()]
    if args.json:
        print(json.dumps(results, default=str))
        return 0
    for r in results:
        goal = GOALS_S[r["mode"]]
        ratio = "n/a" if r["p95_s"] is None else f"{r['p95_s'] / goal:.2f}x goal"
        base = r["baseline_post_s"]
        print(
            f"{r['mode']:>6}: {r['alerts']} alerts ({r['by_table']}, {r['not_delivered']} not delivered), "
            f"trade->webhook p50 {_s(r['p50_s'])} p95 {_s(r['p95_s'])} p99 {_s(r['p99_s'])} "
            f"(goal p95 < {goal:.0f} s: {ratio}); "
            f"p95 by table {r['p95_by_table_s']}; "
            f"median stages {r['median_stage_s']}; baseline bare POST p50 {_s(base['p50'])} "
            f"p95 {_s(base['p95'])}; live passes {r['live_passes']} ({r['woken_by_notify']} woken by a stored "
            f"tick, {r['failed_passes']} failed); pass steps p50/p95 {_steps(r['pass_step_s'])}; "
            f"setup took {r['setup_s']} s; pm_sim's clock behind the wall clock by {r['sim_clock_lag_s']} s "
            "(in every figure above)"
        )
    return 0


def _steps(timings: dict) -> str:
    return ", ".join(f"{k} {v['p50']:.2f}/{v['p95']:.2f} s" for k, v in timings.items())


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} s"
