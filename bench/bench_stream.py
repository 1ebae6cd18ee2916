"""`pm-intel bench stream`: websocket stream throughput (parse + apply + persist, one core) and end-to-end latency.

1. Throughput: pre-generated market-channel frames go through the consumer's own frame path
   (StreamConsumer.handle_frame → books → row buffer → write_batch/COPY) in one thread. Baselines measured in the
   same run: a bare orjson.loads loop over the same frames, and a bare COPY of the same rows.
2. Latency: pm_sim (a subprocess, clock anchored on the wall clock) streams ~2,000 msg/s to a live consumer;
   per stored price-change row, latency = commit time - the frame's server timestamp (corrected by the sim
   clock's measured offset). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import psycopg
from psycopg import sql

from pm_assets.storage import migrate, postgres_server
from pm_assets.storage.urls import libpq_url, mask_url, with_database
from pm_sensors.stream.consumer import StreamConsumer
from pm_sensors.stream.health import percentile
from pm_sensors.stream.persistence import TABLES, prepare_writer, write_batch
from pm_sensors.stream.settings import StreamSettings

PROJECT_DIR = Path(__file__).resolve().parents[1]
BENCH_DB = "pm_intel_bench_stream"


def bench_database() -> str:
    """A fresh migrated database beside DATABASE_URL's (or on the embedded server)."""
    # A server of its own by default: other work on the shared embedded server must not see (or drop) it.
    base = os.environ.get("DATABASE_URL") or postgres_server.start(
        PROJECT_DIR / ".pm-intel" / "bench-stream-pg"
    )
    admin = libpq_url(with_database(base, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(BENCH_DB)))
    url = libpq_url(with_database(base, BENCH_DB))
    migrate.upgrade(url)
    return url


def synthetic_frames(n_messages: int, seed: int = 1) -> list[bytes]:
    """Frames shaped like the live channel: mirrored price_changes[], trades, occasional full books."""
    rng = random.Random(seed)
    markets = [
        ("0x" + f"{rng.getrandbits(256):064x}", str(rng.getrandbits(250)), str(rng.getrandbits(250)))
        for _ in range(100)
    ]
    ts = 1_795_000_000_000
    frames = []
    for i in range(n_messages):
        ts += rng.randint(0, 2)
        cid, yes, no = markets[rng.randrange(len(markets))]
        r = rng.random()
        p = rng.randint(1, 99)
        if r < 0.85:
            size = f"{rng.uniform(5, 5000):.2f}" if rng.random() > 0.2 else "0"
            ev = {
                "market": cid,
                "timestamp": str(ts),
                "event_type": "price_change",
                "price_changes": [
                    {
                        "asset_id": yes,
                        "price": f"{p / 100:g}",
                        "size": size,
                        "side": "BUY",
                        "hash": f"{i:040x}",
                        "best_bid": f"{p / 100:g}",
                        "best_ask": f"{(p + 1) / 100:g}",
                    },
                    {
                        "asset_id": no,
                        "price": f"{(100 - p) / 100:g}",
                        "size": size,
                        "side": "SELL",
                        "hash": f"{i + 1:040x}",
                        "best_bid": f"{(99 - p) / 100:g}",
                        "best_ask": f"{(100 - p) / 100:g}",
                    },
                ],
            }
        elif r < 0.95:
            ev = {
                "asset_id": yes,
                "event_type": "last_trade_price",
                "fee_rate_bps": "0",
                "market": cid,
                "price": f"{p / 100:g}",
                "side": "BUY",
                "size": f"{rng.uniform(1, 500):.2f}",
                "timestamp": str(ts),
                "transaction_hash": f"0x{i:064x}",
            }
        else:
            ev = {
                "market": cid,
                "asset_id": yes,
                "timestamp": str(ts),
                "hash": f"{i:040x}",
                "event_type": "book",
                "bids": [{"price": f"{q / 100:g}", "size": "100"} for q in range(max(1, p - 10), p)],
                "asks": [{"price": f"{q / 100:g}", "size": "100"} for q in range(min(99, p + 10), p, -1)],
                "tick_size": "0.01",
                "last_trade_price": f"{p / 100:g}",
            }
        frames.append(orjson.dumps(ev))
    return frames


def throughput(url: str, n: int, batch_rows: int) -> None:
    frames = synthetic_frames(n)
    t0 = time.perf_counter()
    for f in frames:
        orjson.loads(f)
    loads_s = time.perf_counter() - t0

    dry = StreamConsumer(StreamSettings(ws_url="ws://unused"), url)
    t0 = time.perf_counter()
    received = time.time()
    for f in frames:
        dry.handle_frame(f, received)
        if dry.buffer.pending >= batch_rows:
            dry.buffer.take()
    dry_s = time.perf_counter() - t0
    serial_s, consumer, kept = _consume(url, frames, batch_rows, pipelined=False)
    full_s, consumer, kept = _consume(url, frames, batch_rows, pipelined=True)
    with psycopg.connect(url) as conn:
        # Bare COPY: the same rows once more into empty tables, without parsing, books, dedupe or savepoints.
        conn.execute("truncate ws_price_changes, ws_last_trades, ws_book_snapshots")
        conn.commit()
        prepare_writer(conn)
        rows_total = sum(len(r) for r in kept.values())
        t0 = time.perf_counter()
        for table, rows in kept.items():
            cols = sql.SQL(", ").join(map(sql.Identifier, TABLES[table].columns))
            for i in range(0, len(rows), batch_rows):
                with (
                    conn.transaction(),
                    conn.cursor().copy(
                        sql.SQL("copy {} ({}) from stdin").format(sql.Identifier(table), cols)
                    ) as copy,
                ):
                    for row in rows[i : i + batch_rows]:
                        copy.write_row(row)
        copy_s = time.perf_counter() - t0
    msgs = consumer.stats.messages
    print(
        f"throughput ({n:,} pre-generated frames, one thread, batches of {batch_rows:,} rows, "
        f"{rows_total:,} rows written):"
    )
    print(
        f"  parse + apply + persist : {msgs / full_s:>10,.0f} msg/s   (goal >= 20,000; writes on a worker "
        "thread, as in the consumer)"
    )
    print(f"  same, writes inline     : {msgs / serial_s:>10,.0f} msg/s")
    print(f"  parse + apply + rows, no database: {dry.stats.messages / dry_s:,.0f} msg/s")
    print(
        f"  baseline orjson.loads   : {n / loads_s:>10,.0f} msg/s   ratio {(msgs / full_s) / (n / loads_s):.3f}"
    )
    print(
        f"  baseline bare COPY      : {rows_total / copy_s:>10,.0f} rows/s  ratio (rows/s of the full path) "
        f"{(rows_total / full_s) / (rows_total / copy_s):.3f}"
    )
    print(
        f"  books held {len(consumer.books.books)}, duplicates {consumer.stats.duplicates}, "
        f"stale {consumer.stats.stale}"
    )


def _consume(
    url: str, frames: list[bytes], batch_rows: int, pipelined: bool
) -> tuple[float, StreamConsumer, dict]:
    """Feed frames through the consumer's frame path; returns (seconds until all rows committed, consumer, rows)."""
    with psycopg.connect(url) as conn:
        conn.execute("truncate ws_price_changes, ws_last_trades, ws_book_snapshots")
        conn.commit()
        prepare_writer(conn)  # as the consumer's own writer connection
        consumer = StreamConsumer(StreamSettings(ws_url="ws://unused"), url)
        kept: dict[str, list] = {}
        pool = ThreadPoolExecutor(1)
        pending: Future | None = None
        t0 = time.perf_counter()
        received = time.time()
        for f in frames:
            consumer.handle_frame(f, received)
            # Like the consumer's flusher: one write in flight, the next batch accumulates meanwhile.
            if consumer.buffer.pending >= batch_rows and (pending is None or pending.done()):
                if pending is not None:
                    pending.result()
                batch = consumer.buffer.take()
                for t, rows in batch.items():
                    kept.setdefault(t, []).extend(rows)
                pending = pool.submit(write_batch, conn, batch)
                if not pipelined:
                    pending.result()
        if pending is not None:
            pending.result()
        batch = consumer.buffer.take()
        for t, rows in batch.items():
            kept.setdefault(t, []).extend(rows)
        write_batch(conn, batch)
        elapsed = time.perf_counter() - t0
        pool.shutdown()
    return elapsed, consumer, kept


def start_sim(markets: int, ws_rate: float) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pm_sim",
            "--port",
            "0",
            "--print-json",
            "--speed",
            "1",
            "--start",
            str(time.time()),
            "--markets",
            str(markets),
            "--ws-rate",
            str(ws_rate),
            "--trades-per-second",
            "20",
            "--no-rate-limits",
            "--ws-idle-timeout",
            "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip().startswith("{"):
            return proc, json.loads(line)
    raise RuntimeError(f"pm_sim exited with {proc.wait()}")


def latency(
    url: str, seconds: float, rate: float, markets: int, flush_interval_s: float | None = None
) -> None:
    # pm_sim spreads --ws-rate over every market of its world, closed ones included; only open markets with a
    # book stream, so the rate asked for is scaled up by the share of those to deliver `rate` messages/s.
    proc, urls = start_sim(markets, rate)
    listing = httpx.get(urls["admin_url"] + "/markets", params={"list": 1}, timeout=30).json()["list"]
    streaming = sum(1 for m in listing if m["open"] and m["has_book"])
    ws_rate = rate * len(listing) / max(streaming, 1)
    proc.terminate()
    proc.wait(timeout=10)
    proc, urls = start_sim(markets, ws_rate)
    try:
        listing = httpx.get(urls["admin_url"] + "/markets", params={"list": 1}, timeout=30).json()["list"]
        tokens = [t for m in listing if m["open"] and m["has_book"] for t in m["token_ids"]]
        offsets = []
        for _ in range(5):
            t0 = time.time()
            now = httpx.get(urls["admin_url"] + "/state").json()["now"]
            offsets.append((t0 + time.time()) / 2 - now)
        offset_ms = sorted(offsets)[2] * 1000  # wall - sim clock
        samples: list[float] = []
        in_consumer: list[float] = []
        measuring = {"on": False}

        def on_commit(batch: dict, committed: float) -> None:
            if measuring["on"]:
                for row in batch.get("ws_price_changes", ()):
                    # Tick rows hold COPY text: server_ts (0) and received_at (9) are timestamptz strings.
                    samples.append(committed * 1000 - (_epoch(row[0]) * 1000 + offset_ms))
                    in_consumer.append((committed - _epoch(row[9])) * 1000)

        settings = StreamSettings(
            ws_url=urls["ws_url"], selection="list", tokens=tuple(tokens)
        ).with_overrides(flush_interval_s=flush_interval_s)
        consumer = StreamConsumer(settings, url, on_commit=on_commit)

        async def drive() -> tuple[int, float]:
            stop = asyncio.Event()
            task = asyncio.create_task(consumer.run(stop))
            # Warm-up: the initial books and the sim's first (lazy, trade-generating) steps come as one burst;
            # measuring starts 3 s after the first data, in the steady stream.
            while consumer.stats.messages == 0 and not task.done():
                await asyncio.sleep(0.05)
            await asyncio.sleep(3.0)
            measuring["on"] = True
            m0, t0 = consumer.stats.messages, time.perf_counter()
            await asyncio.sleep(seconds)
            m1, t1 = consumer.stats.messages, time.perf_counter()
            measuring["on"] = False
            stop.set()
            await task
            return m1 - m0, t1 - t0

        msgs, elapsed = asyncio.run(drive())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    print(
        f"end-to-end latency (target {rate:,.0f} msg/s: pm_sim --ws-rate {ws_rate:,.0f} over {len(listing)} markets, "
        f"{streaming} streaming, {len(tokens)} assets, {seconds:g}s measured, "
        f"flush every {settings.flush_interval_s}s):"
    )
    print(
        f"  messages received       : {msgs / elapsed:>10,.0f} msg/s ({msgs:,} events)"
        + (
            ""
            if msgs / elapsed >= 0.95 * rate
            else f"   (below the {rate:,.0f} target: pm_sim could not send faster on this machine)"
        )
    )
    if samples:
        print(
            f"  sim send -> row committed: p50 {p50:.0f} ms, p99 {p99:.0f} ms over {len(samples):,} rows "
            "(goal p99 < 250 ms)"
        )
        st = consumer.stats
        print(
            f"    flushes: {st.flushes}, mean {st.flush_ms_total / max(st.flushes, 1):.0f} ms, max {st.flush_ms_max:.0f} ms,"
            f" largest {st.flush_rows_max:,} rows"
        )
        print(
            f"    of which received -> committed: p50 {percentile(in_consumer, 0.5):.0f} ms, "
            f"p99 {percentile(in_consumer, 0.99):.0f} ms (the rest is the sim's own sending delay)"
        )
    else:
        print("  no price-change rows were committed while measuring")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pm-intel bench stream", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--messages", type=int, default=100_000, help="pre-generated frames for the throughput run"
    )
    ap.add_argument("--batch-rows", type=int, default=5_000)
    ap.add_argument("--seconds", type=float, default=10.0, help="latency measuring window")
    ap.add_argument("--rate", type=float, default=2_000.0, help="pm_sim --ws-rate for the latency run")
    ap.add_argument(
        "--markets", type=int, default=400, help="pm_sim world size (more markets: each streams less often)"
    )
    ap.add_argument(
        "--flush-interval", type=float, default=None, help="consumer flush cadence (s) for the latency run"
    )
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args(argv)
    url = bench_database()
    print(f"database {mask_url(url)}")
    if not args.skip_throughput:
        throughput(url, args.messages, args.batch_rows)
    if not args.skip_latency:
        with psycopg.connect(url) as conn:
            conn.execute(
                "truncate ws_price_changes, ws_last_trades, ws_book_snapshots, stream_health, heartbeats"
            )
        latency(url, args.seconds, args.rate, args.markets, args.flush_interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
