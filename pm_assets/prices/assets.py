"""`price_history`: CLOB `/prices-history` per outcome id into `price_points`, one daily partition at a time."""

import asyncio

import dagster as dg

from pm_assets.markets.sql import WriteTotals
from pm_assets.partitions import daily_partitions
from pm_assets.prices import sql
from pm_assets.prices.history import POINT_COLUMNS, day_window, point_rows
from pm_assets.resources.clob import ClobClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.isolation import quarantine_refused, write_isolating
from pm_assets.storage.raw_payloads import RawPayloadBuffer

TOKENS_PER_BATCH = 200


class PriceHistoryConfig(dg.Config):
    fidelity_minutes: int = 10  # CLOB `fidelity`: one point per this many minutes
    max_tokens: int | None = None  # None: every token listed that day, busiest first


@dg.asset(
    key="price_points",
    group_name="prices",
    kinds={"postgres"},
    deps=["tokens"],
    partitions_def=daily_partitions,
)
def price_history(
    context: dg.AssetExecutionContext,
    config: PriceHistoryConfig,
    warehouse: WarehouseResource,
    clob: ClobClient,
) -> dg.MaterializeResult:
    """Price history (source `clob`) of every outcome id whose market was open during the partition's UTC day,
    one point per `fidelity_minutes`, from CLOB `/prices-history` (market = token id, startTs/endTs in seconds).
    Idempotent per (token, time): re-running or backfilling a day rewrites the same points. Runs daily for the
    previous day; backfill any range from the UI.
    """
    start, end = day_window(context.partition_key)
    raw = RawPayloadBuffer("clob", context.run_id)
    totals = WriteTotals()
    refused = quarantine_refused(raw, "price_points", POINT_COLUMNS)
    with warehouse.connect() as conn:
        tokens = sql.tokens_listed_during(conn, start, end, config.max_tokens)

        async def run() -> dict:
            async with clob.session(quarantine=raw) as session:
                for i in range(0, len(tokens), TOKENS_PER_BATCH):
                    batch = tokens[i : i + TOKENS_PER_BATCH]
                    histories = await session.price_histories(
                        batch, int(start.timestamp()), int(end.timestamp()), config.fidelity_minutes
                    )
                    for part in write_isolating(
                        conn, point_rows(histories), lambda p: sql.upsert_points(conn, p), refused
                    ):
                        totals.add(part)
                    totals.quarantined_written += raw.flush(conn)
                    conn.commit()
                return session.stats.as_metadata()

        stats = asyncio.run(run())
        raw.flush(conn)
        conn.commit()
    return dg.MaterializeResult(
        metadata={
            "day": context.partition_key,
            "tokens": len(tokens),
            "rows_fetched": totals.staged,
            "rows_inserted": totals.inserted,
            "rows_updated": totals.updated,
            "rows_skipped_duplicates": totals.skipped,
            "quarantined_payloads_written": totals.quarantined_written,
            **stats,
        }
    )
