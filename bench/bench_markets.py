"""Market universe sync: markets synced per second from pm_sim at its published rate limits.

Baseline, measured in the same run against the same pm_sim: the bare keyset crawl (the same four listings,
`after_cursor` pages of 100, httpx, no parsing, no pacing, no writing). The sync is the real `markets` /
`tokens` materialization (validation, rows, COPY upserts, one transaction per page), first into an empty
warehouse, then again over unchanged data. Uses a scratch database on DATABASE_URL's server (or the embedded
one), migrated, dropped afterwards.
Usage: pm-intel bench markets [--markets 3000] [--seed 1] [--rate-limit-scale 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

import dagster as dg
import httpx

from bench.scratch import drop_database, scratch_database
from pm_assets.markets.assets import markets_and_tokens
from pm_assets.resources.gamma import GENERATIONS, GammaClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_sim.testing import running_sim


async def bare_crawl(gamma_url: str) -> int:
    """The four keyset listings fetched as fast as the server answers; returns markets seen."""
    async with httpx.AsyncClient(base_url=gamma_url, timeout=60) as client:

        async def listing(closed: bool, version: str) -> int:
            seen, cursor = 0, None
            while True:
                params = {"limit": 100, "closed": str(closed).lower(), "version": version}
                if cursor:
                    params["after_cursor"] = cursor
                body = (await client.get("/markets/keyset", params=params)).json()
                seen += len(body["markets"])
                cursor = body.get("next_cursor")
                if not cursor:
                    return seen

        counts = await asyncio.gather(*(listing(c, v) for c in (False, True) for v in GENERATIONS))
    return sum(counts)


def synced(url: str, gamma_url: str) -> tuple[float, dict]:
    resources = {"warehouse": WarehouseResource(database_url=url), "gamma": GammaClient(base_url=gamma_url)}
    start = time.perf_counter()
    result = dg.materialize([markets_and_tokens], resources=resources, selection=["markets", "tokens"])
    elapsed = time.perf_counter() - start
    [meta] = [
        {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[-1] == "markets"
    ]
    return elapsed, meta


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pm-intel bench markets")
    parser.add_argument("--markets", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rate-limit-scale", type=float, default=1.0, help="pm_sim's published limits × this"
    )
    args = parser.parse_args(argv)
    logging.getLogger("dagster").setLevel(logging.WARNING)
    maintenance, url = scratch_database("markets")
    try:
        with running_sim(
            markets=args.markets,
            seed=args.seed,
            rate_limits=True,
            extra={"rate_limit_scale": args.rate_limit_scale},
        ) as sim:
            asyncio.run(bare_crawl(sim.gamma_url))  # warm-up: pm_sim computes its trade flow lazily
            start = time.perf_counter()
            bare = asyncio.run(bare_crawl(sim.gamma_url))
            bare_s = time.perf_counter() - start
            first_s, first = synced(url, sim.gamma_url)
            again_s, again = synced(url, sim.gamma_url)
    finally:
        drop_database(maintenance, url)
    base_rate = bare / bare_s
    print(
        f"pm_sim: {args.markets} markets (seed {args.seed}), published rate limits x {args.rate_limit_scale}"
    )
    print(
        f"baseline  bare keyset crawl (no parse/write): {bare} markets in {bare_s:.2f} s = {base_rate:,.0f} markets/s"
    )
    for label, secs, meta in (
        ("sync      empty warehouse", first_s, first),
        ("re-sync   unchanged data", again_s, again),
    ):
        rate = meta["rows_fetched"] / secs
        print(
            f"{label}: {meta['rows_fetched']} markets in {secs:.2f} s = {rate:,.0f} markets/s "
            f"({rate / base_rate:.2f} x baseline; inserted {meta['rows_inserted']}, updated {meta['rows_updated']}, "
            f"requests {meta['requests']}, 429s {meta['http_429']}, rate-limit wait {meta['rate_limit_wait_s']} s)"
        )
    return 0
