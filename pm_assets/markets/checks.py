"""Asset checks on the universe: no missing generation, prices in [0, 1], a recent complete crawl."""

import asyncio
from datetime import UTC, datetime, timedelta

import dagster as dg

from pm_assets.markets import sql
from pm_assets.markets.assets import MARKETS_CRAWL
from pm_assets.resources.gamma import GENERATIONS, GammaClient
from pm_assets.resources.warehouse import WarehouseResource

FRESH_WITHIN = timedelta(hours=1)
SAMPLE_MISSING_TOLERANCE = 0.1  # markets listed since the last crawl are expected to be missing


async def _upstream_sample(gamma: GammaClient) -> dict[str, list[str]]:
    """First page of open markets per generation, as upstream lists them now."""
    sample: dict[str, list[str]] = {}
    async with gamma.session() as session:
        for version in GENERATIONS:
            async for page in session.markets(closed=False, version=version):
                sample[version] = [m.condition_id for m in page.items]
                break
            sample.setdefault(version, [])
    return sample


@dg.asset_check(
    asset="markets",
    description="Fails when upstream lists markets of a generation the warehouse "
    "lacks (or a sizeable share of a generation's first listing page is missing).",
)
def markets_cover_every_generation(warehouse: WarehouseResource, gamma: GammaClient) -> dg.AssetCheckResult:
    sample = asyncio.run(_upstream_sample(gamma))
    with warehouse.connect() as conn:
        stored = sql.market_counts_by_version(conn)
        missing = {v: sql.missing_condition_ids(conn, ids) for v, ids in sample.items()}
    failures = []
    for version, ids in sample.items():
        if ids and not stored.get(version):
            failures.append(f"upstream lists {version} markets, the warehouse has none")
        elif ids and len(missing[version]) > SAMPLE_MISSING_TOLERANCE * len(ids):
            failures.append(f"{len(missing[version])} of {len(ids)} listed {version} markets are missing")
    metadata = {f"stored_{v}": stored.get(v, 0) for v in GENERATIONS}
    metadata.update({f"sampled_{v}": len(ids) for v, ids in sample.items()})
    metadata.update({f"missing_{v}": len(ids) for v, ids in missing.items()})
    return dg.AssetCheckResult(passed=not failures, metadata={**metadata, "failures": "; ".join(failures)})


@dg.asset_check(asset="markets", description="best bid, best ask and last trade price lie within [0, 1].")
def market_prices_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        bad = sql.out_of_range_prices(conn)
    return dg.AssetCheckResult(passed=not bad, metadata={"out_of_range": len(bad), "examples": str(bad[:5])})


@dg.asset_check(asset="markets", description="The last complete universe crawl finished within the hour.")
def markets_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        completed = sql.crawl_completed_at(conn, MARKETS_CRAWL)
    age = None if completed is None else datetime.now(UTC) - completed
    return dg.AssetCheckResult(
        passed=age is not None and age <= FRESH_WITHIN,
        metadata={
            "completed_at": str(completed),
            "age_minutes": None if age is None else age.total_seconds() / 60,
        },
    )


universe_checks = [markets_cover_every_generation, market_prices_in_range, markets_fresh]
