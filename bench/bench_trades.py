"""`pm-intel bench trades`: trades upserted per second through the trade write path, against a bare COPY.

Measures, on one scratch database (migrated, dropped afterwards; DATABASE_URL's server, else the embedded one):
1. the write path (fill keys over newest-first pages -> rows -> `copy_upsert` in batches, one transaction
   per batch) on N generated fills, then a bare `COPY` of the same rows into the same (emptied) table in
   the same run, and the ratio (goal >= 0.5); also the re-run rate (every row a duplicate);
2. peak memory of streaming a whole generated day (1,000,000 fills by default) and a day ten times
   smaller through the same path, each in a fresh process (tracemalloc peak of the Python heap while
   writing, and the process's peak RSS): bounded by the batch size, the two should be about equal.

    pm-intel bench trades [--rows 200000] [--day 1000000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql as pgsql

from bench.scratch import drop_database, scratch_database
from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.trades import sql
from pm_assets.trades.fill_key import TimestampGroups
from pm_assets.trades.models import Trade
from pm_assets.trades.writer import TradeBatchWriter

PROJECT_DIR = Path(__file__).resolve().parents[1]
DAY_START = 1_795_651_200  # 2026-11-25 00:00 UTC


def generated_pages(n: int, page_size: int = 1000, seed: int = 7) -> Iterator[list[Trade]]:
    """A day of n fills as the feed serves it: newest first, pages of page_size, some multi-fill
    transactions and some identical twin fills (occurrence > 0)."""
    per_second = n / 86400
    made = 0
    page: list[Trade] = []
    tx = ""
    while made < n:
        i = made
        second = DAY_START + 86399 - int(i / per_second)
        h = hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=16).digest()
        if i == 0 or h[0] > 50:  # ~20% of fills share the previous fill's transaction
            tx = "0x" + hashlib.sha256(h).hexdigest()
        twin = h[1] < 8 and page and page[-1].transaction_hash == tx
        trade = (
            page[-1]
            if twin
            else Trade.model_construct(
                proxy_wallet="0x" + h[2:12].hex() + "0" * 20,
                side="BUY" if h[12] & 1 else "SELL",
                token_id=str(int.from_bytes(h, "big")),
                condition_id="0x" + h.hex() * 2,
                size=round(1 + h[13] * 3.7, 2),
                price=round((h[14] % 99 + 1) / 100, 2),
                timestamp=second,
                transaction_hash=tx,
                outcome="Yes",
                outcome_index=h[15] & 1,
            )
        )
        if twin:
            trade = trade.model_copy(update={"timestamp": second})
        page.append(trade)
        made += 1
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page


def write_day(conn: psycopg.Connection, n: int, batch: int) -> TradeBatchWriter:
    writer = TradeBatchWriter(conn, RawPayloadBuffer("bench"), source="bench", batch_size=batch)
    groups = TimestampGroups()
    for page in generated_pages(n):
        for kt in groups.push(page):
            writer.add(kt)
    for kt in groups.finish():
        writer.add(kt)
    writer.flush()
    return writer


def _throughput(url: str, rows: int, batch: int) -> None:
    keyed = []
    groups = TimestampGroups()
    for page in generated_pages(rows):
        keyed.extend(groups.push(page))
    keyed.extend(groups.finish())
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        writer = TradeBatchWriter(conn, RawPayloadBuffer("bench"), source="bench", batch_size=batch)
        for kt in keyed:
            writer.add(kt)
        writer.flush()
        ours = time.perf_counter() - started
        inserted = writer.stats.inserted

        started = time.perf_counter()
        again = TradeBatchWriter(conn, RawPayloadBuffer("bench"), source="bench", batch_size=batch)
        for kt in keyed:
            again.add(kt)
        again.flush()
        rerun = time.perf_counter() - started

        tuples = [sql.trade_row(kt, "bench") for kt in keyed]
        conn.execute("truncate trades")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                pgsql.SQL("copy trades ({}) from stdin").format(
                    pgsql.SQL(", ").join(map(pgsql.Identifier, sql.TRADE_COLUMNS))
                )
            ) as copy,
        ):
            for row in tuples:
                copy.write_row(row)
        conn.commit()
        bare = time.perf_counter() - started
    print(
        f"write path : {inserted:,} fills in {ours:.2f} s = {inserted / ours:,.0f} fills/s "
        f"(batches of {batch}, one transaction each)"
    )
    print(
        f"re-run     : {again.stats.duplicates:,} duplicates skipped in {rerun:.2f} s = {rows / rerun:,.0f} fills/s"
    )
    print(
        f"bare COPY  : {len(tuples):,} rows in {bare:.2f} s = {len(tuples) / bare:,.0f} rows/s (same table, same run)"
    )
    print(f"ratio      : write path / bare COPY = {bare / ours:.2f} (goal >= 0.5)")


def _high_water_rss_kib() -> int:
    """VmHWM of this process (reset by exec, unlike ru_maxrss, which a child inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _memory_child(url: str, n: int, batch: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("truncate trades")
        conn.commit()
        started = time.perf_counter()
        tracemalloc.start()
        writer = write_day(conn, n, batch)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        elapsed = time.perf_counter() - started
    print(f"{n},{writer.stats.inserted},{peak / 2**20:.1f},{_high_water_rss_kib() / 1024:.1f},{elapsed:.1f}")


def _memory(url: str, day: int, batch: int) -> None:
    for n in (day // 10, day):
        out = (
            subprocess.run(
                [sys.executable, "-m", "bench.bench_trades", "--memory-child", str(n), "--batch", str(batch)],
                cwd=PROJECT_DIR,
                env={**os.environ, "PM_INTEL_BENCH_URL": url},
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        fills, inserted, heap, rss, elapsed = out.split(",")
        print(
            f"day of {int(fills):>9,} fills: {int(inserted):,} stored in {elapsed} s (traced); peak Python heap "
            f"{heap} MiB (tracemalloc), process peak RSS {rss} MiB"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pm-intel bench trades")
    parser.add_argument("--rows", type=int, default=200_000, help="fills for the throughput comparison")
    parser.add_argument("--day", type=int, default=1_000_000, help="fills in the big day of the memory run")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        _memory_child(os.environ["PM_INTEL_BENCH_URL"], args.memory_child, args.batch)
        return 0
    admin, url = scratch_database("trades")
    try:
        _throughput(url, args.rows, args.batch)
        _memory(url, args.day, args.batch)
    finally:
        drop_database(admin, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
