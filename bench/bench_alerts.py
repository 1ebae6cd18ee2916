"""Alert delivery: deliveries/s to a local receiver and latency from signal commit to the receiver.

Baseline, measured in the same run: a bare httpx POST loop of the same payloads to the same receiver.
Uses a scratch database on DATABASE_URL's server (or the embedded one), migrated, dropped afterwards.
Usage: pm-intel bench alerts [--signals 1000] [--live 200] [--rate 40] [--interval 0.2]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
from psycopg.types.json import Jsonb

from bench.scratch import drop_database, scratch_database
from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings
from pm_sensors.alerts.receiver import running_receiver

MARKET = "0x" + "c3" * 32


def insert_signals(conn: psycopg.Connection, count: int) -> list[str]:
    keys = [uuid.uuid4().hex for _ in range(count)]
    now = datetime.now(UTC)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "insert into fresh_wallet_trades (signal_key, fill_key, traded_at, wallet, condition_id, token_id, side, "
            "price, usdc_size, wallet_age_hours, evidence) values (%s, %s, %s, %s, %s, '1', 'BUY', 0.12, 48200, 3, %s)",
            [
                (
                    k,
                    k,
                    now,
                    "0x" + k[:40].ljust(40, "0"),
                    MARKET,
                    Jsonb({"summary": "wallet first active 3 h before this $48,200 buy of YES at 0.12"}),
                )
                for k in keys
            ],
        )
    return keys


def baseline_posts(url: str, count: int) -> tuple[float, list[float]]:
    payload = {
        "kind": "signal",
        "summary": "wallet first active 3 h before this $48,200 buy of YES at 0.12",
        "signal_key": "x" * 32,
        "fields": {"size (USDC)": "48,200"},
    }
    latencies = []
    with httpx.Client() as client:
        start = time.perf_counter()
        for _ in range(count):
            t0 = time.perf_counter()
            client.post(url, json=payload).raise_for_status()
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    return count / elapsed, latencies


def quantile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]
        if len(values) > 1
        else values[0]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pm-intel bench alerts", description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=1000, help="backlog size for the throughput run")
    parser.add_argument(
        "--live", type=int, default=200, help="signals committed one by one for the latency run"
    )
    parser.add_argument("--rate", type=float, default=40.0, help="live signals committed per second")
    parser.add_argument(
        "--interval", type=float, default=0.2, help="seconds between delivery ticks (the sensor: 5)"
    )
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    maintenance, url = scratch_database("alerts")
    try:
        with running_receiver() as receiver, psycopg.connect(url, autocommit=True) as conn:
            base_rate, base_lat = baseline_posts(receiver.url("/baseline"), args.signals)
            conn.execute(
                "insert into alert_rules (name, signal_type, destination_kind, webhook_url, created_at) "
                "values ('bench', 'fresh_wallet', 'json', %s, now() - interval '1 hour')",
                (receiver.url("/alerts"),),
            )
            client = httpx.Client()
            deliverer = AlertDeliverer(
                lambda: psycopg.connect(url, autocommit=True),
                DeliverySettings(allow_private=True),
                client=client,
            )
            cursor = deliverer.tick(None).cursor

            insert_signals(conn, args.signals)
            start = time.perf_counter()
            ticks = 0
            while len(receiver.delivered("/alerts")) < args.signals and ticks < 10 * args.signals:
                cursor = deliverer.tick(cursor).cursor
                ticks += 1
            rate = args.signals / (time.perf_counter() - start)

            committed: dict[str, float] = {}
            stop = threading.Event()

            def tick_loop() -> None:
                nonlocal cursor
                while not stop.is_set():
                    cursor = deliverer.tick(cursor).cursor
                    stop.wait(args.interval)

            worker = threading.Thread(target=tick_loop, daemon=True)
            worker.start()
            for _ in range(args.live):
                (key,) = insert_signals(conn, 1)
                committed[key] = time.time()
                time.sleep(1 / args.rate)
            end = time.monotonic() + 30
            while time.monotonic() < end and len(receiver.delivered("/alerts")) < args.signals + args.live:
                time.sleep(0.05)
            stop.set()
            worker.join()
            client.close()
            arrived = {r.body["signal_key"]: r.received_at for r in receiver.delivered("/alerts")}
            latencies = [arrived[k] - t for k, t in committed.items() if k in arrived]
    finally:
        drop_database(maintenance, url)

    print(
        f"baseline bare httpx POST loop: {base_rate:8.1f} posts/s   "
        f"latency p50 {quantile(base_lat, 0.5) * 1e3:.2f} ms  p95 {quantile(base_lat, 0.95) * 1e3:.2f} ms"
    )
    print(
        f"alert delivery (backlog of {args.signals}, {ticks} ticks): {rate:8.1f} deliveries/s   "
        f"ratio to baseline {rate / base_rate:.2f}"
    )
    if latencies:
        print(
            f"commit -> receiver latency ({len(latencies)}/{args.live} live signals at {args.rate:g}/s, "
            f"tick every {args.interval:g} s): p50 {quantile(latencies, 0.5) * 1e3:.1f} ms  "
            f"p95 {quantile(latencies, 0.95) * 1e3:.1f} ms"
        )
    else:
        print("commit -> receiver latency: no live signal arrived")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
