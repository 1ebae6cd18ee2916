"""Throughput of pm_sim on loopback: /clob/book and /data/v2/trades requests/s, ws messages/s, and the trade
flow's generation rate at thousands of fills/s; `--flow-fit` prints the background flow's figures beside the real
ones (../shared/real-flow.md) instead.

The server runs in its own process (one core); the client is bounded in count and time.
Usage: pm-intel bench sim [--seconds 3] [--markets 2000] [--flow-fit [--seed N]]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx


def start_server(args: list[str]) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pm_sim", "--print-json", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    urls = json.loads(proc.stdout.readline())
    return proc, urls


def http_rate(
    url: str, params_list: list[dict], seconds: float, max_requests: int, workers: int = 4
) -> float:
    deadline = time.monotonic() + seconds
    counts = [0] * workers

    def run(w: int) -> None:
        with httpx.Client() as c:
            i = w
            while time.monotonic() < deadline and sum(counts) < max_requests:
                r = c.get(url, params=params_list[i % len(params_list)])
                r.raise_for_status()
                counts[w] += 1
                i += workers

    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(run, range(workers)))
    return sum(counts) / (time.monotonic() - t0)


def ws_rate(ws_url: str, assets: list[str], seconds: float) -> float:
    from websockets.sync.client import connect

    n = 0
    with connect(ws_url, max_size=None) as ws:
        ws.send(json.dumps({"assets_ids": assets, "type": "market", "custom_feature_enabled": True}))
        ws.recv(timeout=30)  # initial dump
        t0 = time.monotonic()
        last_ping = t0
        while time.monotonic() - t0 < seconds:
            if time.monotonic() - last_ping > 5:
                ws.send("PING")
                last_ping = time.monotonic()
            try:
                msg = ws.recv(timeout=1)
            except TimeoutError:
                continue
            if msg != "PONG":
                n += 1
        return n / (time.monotonic() - t0)


def flow_rate(trades_per_second: float = 2000.0, markets: int = 2000, sim_seconds: float = 120.0) -> tuple:
    """Fills/s the flow generator materialises walking the global feed of a world at `trades_per_second`, and
    the rate of the bare hash draws the same count of fills takes (the floor any generator pays), in-process."""
    import numpy as np

    from pm_sim.config import SimConfig
    from pm_sim.rng import vu01
    from pm_sim.sim import Sim

    sim = Sim(
        SimConfig(
            markets=markets,
            trades_per_second=trades_per_second,
            history_hours=0.1,
            speed=0,
            rate_limits=False,
        )
    )
    now = int(sim.cfg.start * 1000)
    t0 = time.perf_counter()
    n = sum(1 for _ in sim.flow.iter_rows(now, now - int(sim_seconds * 1000)))
    gen = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    idx = np.arange(n)
    for key in range(12):  # about the per-fill draws a fill needs
        vu01(1, key, idx, idx)
    bare = n / (time.perf_counter() - t0)
    return n, gen, bare


def print_flow_fit(seed: int | None) -> None:
    from pm_sim import flow_measure

    figures = flow_measure.fitted_figures(**({"seed": seed} if seed is not None else {}))
    ref = {**flow_measure.REFERENCE, **({"seed": seed} if seed is not None else {})}
    print(f"pm_sim background flow vs real data (../shared/real-flow.md); world {ref}")
    print(f"{'figure':<26} {'real':>10} {'pm_sim':>10}  {'tolerance':<20} ok")
    for name, real, got, (lo, hi), ok in flow_measure.table(figures):
        print(f"{name:<26} {real:>10.3f} {got:>10.3f}  {f'{lo:g}-{hi:g}':<20} {'yes' if ok else 'NO'}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--markets", type=int, default=2000)
    ap.add_argument("--max-requests", type=int, default=20000)
    ap.add_argument(
        "--flow-fit", action="store_true", help="print the fitted flow figures beside the real ones"
    )
    ap.add_argument("--seed", type=int, default=None, help="with --flow-fit: the reference world's seed")
    a = ap.parse_args(argv)
    if a.flow_fit:
        print_flow_fit(a.seed)
        return
    n, gen, bare = flow_rate()
    print(
        f"flow generator: {gen:,.0f} fills/s materialised ({n:,} fills of a 2,000 fills/s world, 2,000 markets); "
        f"bare per-fill hash draws {bare:,.0f} fills/s; ratio {gen / bare:.3f}"
    )
    proc, u = start_server(
        [
            "--markets",
            str(a.markets),
            "--speed",
            "1",
            "--no-rate-limits",
            "--trades-per-second",
            "12",
            "--ws-rate",
            "5000",
            "--history-hours",
            "2",
            # The initial dump of thousands of books can outlast the default 10 s idle limit on a loaded machine.
            "--ws-idle-timeout",
            "120",
        ]
    )
    try:
        lst = httpx.get(u["admin_url"] + "/markets", params={"list": 1}, timeout=60).json()["list"]
        live = [m for m in lst if m["open"] and m["has_book"]]
        toks = [{"token_id": t} for m in live[:200] for t in m["token_ids"]]
        book = http_rate(u["clob_url"] + "/book", toks, a.seconds, a.max_requests)
        trades = http_rate(u["data_url"] + "/v2/trades", [{"limit": 100}], a.seconds, a.max_requests)
        wsr = ws_rate(
            u["ws_url"],
            [t["token_id"] for t in toks] + [t for m in live[200:] for t in m["token_ids"]],
            a.seconds,
        )
        print(
            f"markets={a.markets}  /clob/book: {book:.0f} req/s  /data/v2/trades?limit=100: {trades:.0f} req/s  "
            f"ws: {wsr:.0f} msg/s (one subscriber, {len(live)} live markets)"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
