"""Asset checks on `trades`: unique fills, prices in [0, 1], known tokens, complete partitions, freshness."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades.live_edge import CURSOR

TRADES = dg.AssetKey("trades")
FRESH_WITHIN = timedelta(minutes=10)


def _scalar(warehouse: WarehouseResource, statement: str, **params: object) -> object:
    with warehouse.engine().connect() as conn:
        return conn.execute(text(statement), params).scalar()


@dg.asset_check(
    asset=TRADES,
    description="No fill is stored twice (same transaction, token, wallet, side, "
    "price, size and occurrence under two keys or two times).",
)
def trades_no_duplicate_fills(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    dupes = _scalar(
        warehouse,
        """
        select count(*) from (
            select 1 from trades
            group by transaction_hash, token_id, wallet, side, price, size, occurrence having count(*) > 1
        ) d""",
    )
    return dg.AssetCheckResult(passed=dupes == 0, metadata={"duplicate_fills": int(dupes or 0)})


@dg.asset_check(asset=TRADES, description="Every price lies within [0, 1].")
def trades_prices_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    bad = _scalar(warehouse, "select count(*) from trades where price < 0 or price > 1 or price is null")
    return dg.AssetCheckResult(passed=bad == 0, metadata={"out_of_range": int(bad or 0)})


@dg.asset_check(
    asset=TRADES, description="Every trade's token is in `tokens` (the market universe knows it)."
)
def trades_tokens_known(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    unknown = _scalar(
        warehouse,
        """
        select count(distinct t.token_id) from trades t
        where not exists (select 1 from tokens k where k.token_id = t.token_id)""",
    )
    return dg.AssetCheckResult(
        passed=unknown == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"unknown_tokens": int(unknown or 0)},
    )


@dg.asset_check(
    asset=TRADES,
    description="Every backfilled past day was walked to its end, and no live-edge "
    "loss event is left unrepaired.",
)
def trades_partitions_complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.engine().connect() as conn:
        short_days = (
            conn.execute(
                text("""
            select name from ingestion_cursors
            where name like 'trades_day:%'
              and (value->>'window_end')::timestamptz <= now()
              and complete_through < (value->>'window_end')::timestamptz - interval '1 second'
            order by name""")
            )
            .scalars()
            .all()
        )
        open_losses = conn.execute(
            text("select count(*) from trade_loss_events where repaired_at is null")
        ).scalar()
    return dg.AssetCheckResult(
        passed=not short_days and open_losses == 0,
        metadata={
            "days_not_walked_to_end": ", ".join(n.split(":", 1)[1] for n in short_days) or "none",
            "open_loss_events": int(open_losses or 0),
        },
    )


@dg.asset_check(asset=TRADES, description="The live edge proved continuity within the last 10 minutes.")
def trades_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.engine().connect() as conn:
        row = conn.execute(
            text("select complete_through, updated_at from ingestion_cursors where name = :n"), {"n": CURSOR}
        ).first()
    if row is None or row[0] is None:
        return dg.AssetCheckResult(
            passed=False, metadata={"reason": "the live edge has not proven anything yet"}
        )
    age = datetime.now(UTC) - row[1]
    return dg.AssetCheckResult(
        passed=age <= FRESH_WITHIN,
        metadata={"complete_through": row[0].isoformat(), "last_poll_age_s": round(age.total_seconds(), 1)},
    )


EMPTY_DAYS_SQL = """
with days as (
    select (value->>'window_start')::timestamptz as day_start, (value->>'window_end')::timestamptz as day_end
    from ingestion_cursors
    where name like 'trades_day:%' and (value->>'window_end')::timestamptz <= now()
)
select d.day_start::date,
    -- markets listed before the day, open after it, with fills stored after it: they were trading
    (select count(*) from markets m
        where m.start_date < d.day_start and (m.closed_time is null or m.closed_time >= d.day_end)
          and exists (select 1 from trades a where a.condition_id = m.condition_id and a.traded_at >= d.day_end)),
    (select count(*) from ws_last_trades w where w.server_ts >= d.day_start and w.server_ts < d.day_end)
from days d
where not exists (select 1 from trades t where t.traded_at >= d.day_start and t.traded_at < d.day_end)
order by 1
"""


@dg.asset_check(
    asset=TRADES,
    description="No backfilled day received zero fills while its markets traded (markets listed before the day "
    "and trading after it, or last trades the stream saw that day): a green, empty partition is a loss.",
)
def trades_no_empty_trading_days(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.engine().connect() as conn:
        rows = conn.execute(text(EMPTY_DAYS_SQL)).all()
    flagged = {
        str(day): {"markets_trading_around_it": m, "stream_last_trades": w} for day, m, w in rows if m or w
    }
    return dg.AssetCheckResult(
        passed=not flagged,
        metadata={
            "empty_days_while_markets_traded": ", ".join(flagged) or "none",
            "evidence": dg.MetadataValue.json(flagged),
        },
        description=(
            f"{len(flagged)} backfilled day(s) hold no fills although their markets traded: re-run those "
            "partitions, and check the Data API answered"
            if flagged
            else None
        ),
    )


trade_checks = [
    trades_no_duplicate_fills,
    trades_prices_in_range,
    trades_tokens_known,
    trades_partitions_complete,
    trades_fresh,
    trades_no_empty_trading_days,
]
