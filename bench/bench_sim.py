"""Throughput of pm_sim on loopback: /clob/book and /data/v2/trades requests/s, ws messages/s.

The server runs in its own process (one core); the client is bounded in count and time.
Usage: python bench/bench_sim.py [--seconds 3] [--markets 2000]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--markets", type=int, default=2000)
    ap.add_argument("--max-requests", type=int, default=20000)
    a = ap.parse_args()
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
