"""The market universe: `events`, `markets` and `tokens` from Gamma's keyset listings.

Thin wiring: fetch through the `gamma` resource, convert with universe.py, write through sql.py one page per
transaction (quarantined payloads flushed in the same transaction), report what happened as metadata. A bad
item costs itself only: refused by validation, by conversion or by the warehouse, it is quarantined and the
rest of its page is written.
"""

import asyncio
from datetime import UTC, datetime

import dagster as dg

from pm_assets.markets import sql
from pm_assets.markets.crawl import CrawlReport, crawl_listings
from pm_assets.markets.universe import (
    EVENT_COLUMNS,
    MARKET_COLUMNS,
    TOKEN_COLUMNS,
    event_row,
    event_stub_row,
    market_row,
    token_rows,
)
from pm_assets.resources.gamma import GammaClient, KeysetPage
from pm_assets.resources.http import RequestStats
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.isolation import convert_each, quarantine_refused, write_isolating
from pm_assets.storage.raw_payloads import RawPayloadBuffer

EVENTS_CRAWL = "gamma_events"
MARKETS_CRAWL = "gamma_markets"


def _upsert(
    conn, raw: RawPayloadBuffer, table: str, columns, upsert, rows: list, totals: sql.WriteTotals
) -> None:
    """Upsert one page's rows; a row the warehouse refuses is isolated and quarantined, the rest written."""
    for result in write_isolating(
        conn, rows, lambda part: upsert(conn, part), quarantine_refused(raw, table, columns)
    ):
        totals.add(result)


def _write_metadata(totals: sql.WriteTotals) -> dict[str, int]:
    return {
        "rows_inserted": totals.inserted,
        "rows_updated": totals.updated,
        "rows_skipped_duplicates": totals.skipped,
        "quarantined_payloads_written": totals.quarantined_written,
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
            rows = convert_each(page.items, event_row, raw, "events")
            _upsert(conn, raw, "events", EVENT_COLUMNS, sql.upsert_events, rows, totals)
            totals.quarantined_written += raw.flush(conn)
            conn.commit()

        async def crawl() -> tuple[CrawlReport, RequestStats]:
            async with gamma.session(quarantine=raw) as session:
                return await crawl_listings(session.events, write), session.stats

        report, stats = asyncio.run(crawl())
        totals.quarantined_written += raw.flush(conn)
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
            # Converted per market: one that cannot be is quarantined, the rest of the page is written.
            converted = convert_each(page.items, lambda m: (m, market_row(m), token_rows(m)), raw, "markets")
            event_ids = sorted({m.event_id for m, _, _ in converted if m.event_id})
            stubs = sql.WriteTotals()
            _upsert(
                conn,
                raw,
                "events",
                EVENT_COLUMNS,
                sql.insert_event_stubs,
                [event_stub_row(e) for e in event_ids],
                stubs,
            )
            stubbed += stubs.inserted
            _upsert(
                conn,
                raw,
                "markets",
                MARKET_COLUMNS,
                sql.upsert_markets,
                [r for _, r, _ in converted],
                market_totals,
            )
            _upsert(
                conn,
                raw,
                "tokens",
                TOKEN_COLUMNS,
                sql.upsert_tokens,
                [r for _, _, rs in converted for r in rs],
                token_totals,
            )
            market_totals.quarantined_written += raw.flush(conn)
            conn.commit()

        async def crawl() -> tuple[CrawlReport, RequestStats]:
            async with gamma.session(quarantine=raw) as session:
                return await crawl_listings(session.markets, write), session.stats

        report, stats = asyncio.run(crawl())
        market_totals.quarantined_written += raw.flush(conn)
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
