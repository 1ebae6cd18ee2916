"""`market_resolutions`: each market's resolution from Data API `/v2/resolutions` (polymarket-api.md L.2).

Payouts are integers in millionths per outcome ([1000000, 0] = outcome 0 won). The winner is the token
whose payout is the whole million; a split payout has no single winner. The asset also copies status,
winner and resolution time onto `markets`, which is what signals and the scorecard join on.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.http import gather_bounded
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.bulk import copy_upsert
from pm_assets.storage.isolation import convert_each, quarantine_refused, write_isolating
from pm_assets.storage.raw_payloads import RawPayloadBuffer
from pm_assets.trades.models import FULL_PAYOUT, Resolution
from pm_assets.trades.walks import condition_batches

COLUMNS = (
    "condition_id",
    "status",
    "payouts",
    "winning_token_id",
    "winning_outcome",
    "was_disputed",
    "was_arbitrated",
    "extended_review",
    "reporter",
    "resolution_source",
    "resolved_at",
    "source",
    "updated_at",
)


@dataclass(frozen=True)
class TokenRef:
    token_id: str
    outcome: str | None


def winning_outcome_index(payouts: Sequence[int] | None) -> int | None:
    """The outcome paid in full, or None (open market, empty payouts, or a split payout)."""
    if not payouts:
        return None
    winners = [i for i, p in enumerate(payouts) if p >= FULL_PAYOUT]
    return winners[0] if len(winners) == 1 else None


def resolution_row(res: Resolution, tokens: dict[int, TokenRef], now: datetime) -> tuple[Any, ...]:
    idx = winning_outcome_index(res.payouts)
    winner = tokens.get(idx) if idx is not None else None
    return (
        res.condition_id,
        res.status,
        Jsonb(res.payouts) if res.payouts is not None else None,
        winner.token_id if winner else None,
        winner.outcome if winner else None,
        res.was_disputed,
        res.was_arbitrated,
        res.extended_review,
        res.reporter,
        res.resolution_source or None,
        res.resolved_at,
        "data_v2",
        now,
    )


def _tokens_by_market(conn: psycopg.Connection) -> dict[str, dict[int, TokenRef]]:
    out: dict[str, dict[int, TokenRef]] = {}
    for cid, idx, token, outcome in conn.execute(
        "select condition_id, outcome_index, token_id, outcome from tokens"
    ).fetchall():
        out.setdefault(cid, {})[idx] = TokenRef(token, outcome)
    return out


def _sync_markets(conn: psycopg.Connection) -> int:
    cur = conn.execute("""
        update markets m set resolution_status = r.status, winning_token_id = r.winning_token_id,
               resolved_at = r.resolved_at, updated_at = now()
        from market_resolutions r
        where r.condition_id = m.condition_id
          and (m.resolution_status, m.winning_token_id, m.resolved_at)
              is distinct from (r.status, r.winning_token_id, r.resolved_at)""")
    conn.execute("""
        update tokens t set winner = (t.token_id = r.winning_token_id), updated_at = now()
        from market_resolutions r
        where r.condition_id = t.condition_id and r.winning_token_id is not null
          and t.winner is distinct from (t.token_id = r.winning_token_id)""")
    return cur.rowcount


class ResolutionsConfig(dg.Config):
    include_resolved: bool = False  # also re-ask markets already final (resolved and not disputed)
    concurrency: int = 4


@dg.asset(key="market_resolutions", group_name="markets", kinds={"postgres"}, deps=[dg.AssetKey("markets")])
def market_resolutions(
    context: dg.AssetExecutionContext,
    config: ResolutionsConfig,
    data_api: DataApiClient,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """One row per market: status, payouts (millionths), winning token, dispute / arbitration / extended
    review flags, reporter and resolution time, from `/v2/resolutions` (source `data_v2`); also sets
    `markets.resolution_status`, `winning_token_id` and `resolved_at`. Refresh after `markets`; markets that
    are final are not asked again unless `include_resolved`.
    """
    quarantine = RawPayloadBuffer("data_api", run_id=context.run_id)
    with warehouse.connect() as conn:
        pending = [
            r[0]
            for r in conn.execute(
                "select m.condition_id from markets m left join market_resolutions r using (condition_id) "
                "where %s or r.condition_id is null or r.status <> 'resolved' or r.was_disputed "
                "order by m.condition_id",
                (config.include_resolved,),
            ).fetchall()
        ]
        tokens = _tokens_by_market(conn)

    async def fetch() -> tuple[list[Resolution], dict]:
        async with data_api.session(quarantine=quarantine) as session:
            pages = await gather_bounded(
                [lambda b=b: session.resolutions(b) for b in condition_batches(pending)], config.concurrency
            )
            return [r for page in pages for r in page], {
                **session.http.stats.as_metadata(),
                "pages": session.pages,
            }

    rows, stats = asyncio.run(fetch()) if pending else ([], {})
    now = datetime.now().astimezone()
    with warehouse.connect() as conn:
        converted = convert_each(
            rows, lambda r: resolution_row(r, tokens.get(r.condition_id, {}), now), quarantine, "resolutions"
        )
        results = write_isolating(
            conn,
            converted,
            lambda part: copy_upsert(
                conn, "market_resolutions", COLUMNS, part, key=("condition_id",), update=COLUMNS[1:-1]
            ),
            quarantine_refused(quarantine, "market_resolutions", COLUMNS),
        )
        markets_updated = _sync_markets(conn)
        quarantined_written = quarantine.flush(conn)
    return dg.MaterializeResult(
        metadata={
            **stats,
            "markets_asked": len(pending),
            "resolutions_fetched": len(rows),
            "rows_inserted": sum(r.inserted for r in results),
            "rows_updated": sum(r.updated for r in results),
            "quarantined_payloads_written": quarantined_written,
            "markets_updated": markets_updated,
            "resolved": sum(1 for r in rows if r.status == "resolved"),
            "disputed": sum(1 for r in rows if r.was_disputed),
        }
    )
