"""The market universe: `events`, `markets` and `tokens` from Gamma's keyset listings.

Thin wiring: fetch through the `gamma` resource, convert with universe.py, write through sql.py one page per
transaction (quarantined payloads flushed in the same transaction), report what happened as metadata.
"""

import asyncio
from datetime import UTC, datetime

import dagster as dg

from pm_assets.markets import sql
from pm_assets.markets.crawl import CrawlReport, crawl_listings
from pm_assets.markets.universe import event_row, event_stub_row, market_row, token_rows
from pm_assets.resources.gamma import GammaClient, KeysetPage
from pm_assets.resources.http import RequestStats
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.raw_payloads import RawPayloadBuffer

EVENTS_CRAWL = "gamma_events"
MARKETS_CRAWL = "gamma_markets"


def _write_metadata(totals: sql.WriteTotals) -> dict[str, int]:
    return {
        "rows_inserted": totals.inserted,
        "rows_updated": totals.updated,
        "rows_skipped_duplicates": totals.skipped,
    }


def _crawl_metadata(report: CrawlReport, stats: RequestStats, noun: str) -> dict[str, float | int]:
    return {
        "rows_fetched": report.fetched,
        "pages": report.pages,
        "items_quarantined": report.rejected,
        f"{noun}_v1": sum(v for k, v in report.per_listing.items() if k.startswith("v1_")),
        f"{noun}_v2": sum(v for k, v in report.per_listing.items() if k.startswith("v2_")),
        "generation_mismatches": report.generation_mismatches,
        **report.listing_metadata(noun),
        **stats.as_metadata(),
    }


@dg.asset(key="events", group_name="markets", kinds={"postgres"})
def events(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gamma: GammaClient):
    """Every Polymarket event (open and closed, both market generations) from Gamma `/events/keyset`.

    One row per event: title, slug, negRisk grouping (`neg_risk`, `neg_risk_market_id`,
    `neg_risk_augmented`), volume and liquidity. Refreshed by the universe schedule (every 15 minutes).
    """
    raw = RawPayloadBuffer("gamma", context.run_id)
    totals = sql.WriteTotals()
    with warehouse.connect() as conn:

        def write(page: KeysetPage) -> None:
            totals.add(sql.upsert_events(conn, [event_row(e) for e in page.items]))
            raw.flush(conn)
            conn.commit()

        async def crawl() -> tuple[CrawlReport, RequestStats]:
            async with gamma.session(quarantine=raw) as session:
                return await crawl_listings(session.events, write), session.stats

        report, stats = asyncio.run(crawl())
        raw.flush(conn)
        sql.record_crawl(conn, EVENTS_CRAWL, datetime.now(UTC), {"events": report.fetched})
        conn.commit()
    return dg.MaterializeResult(
        metadata={**_crawl_metadata(report, stats, "events"), **_write_metadata(totals)}
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "markets",
            group_name="markets",
            kinds={"postgres"},
            deps=["events"],
            description="Every Polymarket market, CTF (v1) and Protocol V2 alike, from Gamma `/markets/keyset`: "
            "66-character condition id, generation, negRisk grouping, tick size, fee schedule, best bid/ask, "
            "volume and liquidity, Gamma's resolution state. Refreshed every 15 minutes.",
        ),
        dg.AssetSpec(
            "tokens",
            group_name="markets",
            kinds={"postgres"},
            deps=["markets"],
            description="One row per outcome id: CTF token ids of v1 markets and position ids of v2 markets, "
            "with the market's generation and outcome index. Written with `markets`, from the same pages.",
        ),
    ],
)
def markets_and_tokens(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gamma: GammaClient):
    raw = RawPayloadBuffer("gamma", context.run_id)
    market_totals, token_totals = sql.WriteTotals(), sql.WriteTotals()
    stubbed = 0
    with warehouse.connect() as conn:

        def write(page: KeysetPage) -> None:
            nonlocal stubbed
            event_ids = {m.event_id for m in page.items if m.event_id}
            stubbed += sql.insert_event_stubs(conn, [event_stub_row(e) for e in sorted(event_ids)]).inserted
            market_totals.add(sql.upsert_markets(conn, [market_row(m) for m in page.items]))
            token_totals.add(sql.upsert_tokens(conn, [row for m in page.items for row in token_rows(m)]))
            raw.flush(conn)
            conn.commit()

        async def crawl() -> tuple[CrawlReport, RequestStats]:
            async with gamma.session(quarantine=raw) as session:
                return await crawl_listings(session.markets, write), session.stats

        report, stats = asyncio.run(crawl())
        raw.flush(conn)
        sql.record_crawl(conn, MARKETS_CRAWL, datetime.now(UTC), {"markets": report.fetched})
        conn.commit()
    market_meta = {
        **_crawl_metadata(report, stats, "markets"),
        **_write_metadata(market_totals),
        "event_stubs_inserted": stubbed,
    }
    yield dg.MaterializeResult(asset_key="markets", metadata=market_meta)
    yield dg.MaterializeResult(
        asset_key="tokens", metadata={"rows_fetched": token_totals.staged, **_write_metadata(token_totals)}
    )
