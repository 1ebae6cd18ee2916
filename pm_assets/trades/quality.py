"""The rules `trades` is checked against, as plain functions of the warehouse returning the check's result.

Two callers, one rule each: the asset checks beside the asset (checks.py: with a run, a backfill, or from the
UI) and the live driver (pm_sensors/live/periodic.py: once a minute, reported as runless check evaluations for
the fills it writes outside any run)."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades.live_edge import CURSOR

FRESH_WITHIN = timedelta(minutes=10)


def _scalar(warehouse: WarehouseResource, statement: str, **params: object) -> object:
    with warehouse.engine().connect() as conn:
        return conn.execute(text(statement), params).scalar()


def duplicate_fills(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    dupes = _scalar(
        warehouse,
        """
        select count(*) from (
            select 1 from trades
            group by transaction_hash, token_id, wallet, side, price, size, occurrence having count(*) > 1
        ) d""",
    )
    return dg.AssetCheckResult(passed=dupes == 0, metadata={"duplicate_fills": int(dupes or 0)})


def prices_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    bad = _scalar(warehouse, "select count(*) from trades where price < 0 or price > 1 or price is null")
    return dg.AssetCheckResult(passed=bad == 0, metadata={"out_of_range": int(bad or 0)})


def tokens_known(warehouse: WarehouseResource) -> dg.AssetCheckResult:
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


def partitions_complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Backfilled past days walked to their end and no live-edge loss event left unrepaired (two small reads:
    the cursors and the open losses, cheap enough for the live driver's minute)."""
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


def live_edge_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """The live edge proved continuity within FRESH_WITHIN (one cursor row)."""
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


def no_empty_trading_days(warehouse: WarehouseResource) -> dg.AssetCheckResult:
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
