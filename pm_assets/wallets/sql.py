"""The wallets domain's statements (psycopg, bound parameters)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from pm_assets.storage.bulk import copy_upsert

AGGREGATE_CURSOR = "wallets_aggregate"


def touched_since(conn: psycopg.Connection, since: datetime | None) -> tuple[int, datetime | None]:
    """Recompute trade_count, volume and last_seen of wallets with fills ingested after `since`.

    Recomputing each touched wallet from all its fills (not adding deltas) keeps re-runs idempotent.
    Returns (wallets upserted, newest ingested_at seen: the next watermark).
    """
    newest = conn.execute("select max(ingested_at) from trades").fetchone()[0]  # type: ignore[index]
    if newest is None:
        return 0, since
    cur = conn.execute(
        """
        with touched as (
            select distinct wallet from trades where ingested_at > coalesce(%(since)s::timestamptz, '-infinity') and ingested_at <= %(upto)s
        )
        insert into wallets (wallet, trade_count, volume_usdc, last_seen_at, updated_at)
        select t.wallet, count(*), coalesce(sum(t.usdc_size), 0), max(t.traded_at), now()
        from trades t join touched using (wallet)
        group by t.wallet
        on conflict (wallet) do update set trade_count = excluded.trade_count,
            volume_usdc = excluded.volume_usdc, last_seen_at = excluded.last_seen_at, updated_at = now()
        where (wallets.trade_count, wallets.volume_usdc, wallets.last_seen_at)
              is distinct from (excluded.trade_count, excluded.volume_usdc, excluded.last_seen_at)
        """,
        {"since": since, "upto": newest},
    )
    return cur.rowcount, newest


_UNCHECKED_WALLETS = """
    select w.wallet from wallets w
    join lateral (select max(usdc_size) as biggest from trades t where t.wallet = w.wallet) b on true
    where w.first_activity_checked_at is null and b.biggest >= %(min)s
    order by b.biggest desc, w.wallet limit %(limit)s"""
_UNCHECKED_TOUCHED_WALLETS = """
    select w.wallet from (select distinct wallet from trades where ingested_at > %(after)s) n
    join wallets w using (wallet)
    join lateral (select max(usdc_size) as biggest from trades t where t.wallet = w.wallet) b on true
    where w.first_activity_checked_at is null and b.biggest >= %(min)s
    order by b.biggest desc, w.wallet limit %(limit)s"""


def wallets_needing_first_activity(
    conn: psycopg.Connection, min_trade_usdc: float, limit: int, touched_after: datetime | None = None
) -> list[str]:
    """Unchecked wallets that matter: those with a fill of at least `min_trade_usdc`, biggest first; with
    `touched_after`, only wallets with a fill ingested after it (found through the ingested_at index, so the
    cost follows the new fills, not the number of unchecked wallets)."""
    statement = _UNCHECKED_WALLETS if touched_after is None else _UNCHECKED_TOUCHED_WALLETS
    params = {"min": min_trade_usdc, "limit": limit, "after": touched_after}
    return [r[0] for r in conn.execute(statement, params).fetchall()]


def write_first_activities(
    conn: psycopg.Connection, found: Sequence[tuple[str, datetime | None, datetime]]
) -> int:
    """(wallet, first activity or None, checked at). An unknown first activity falls back to no value."""
    result = copy_upsert(
        conn,
        "wallets",
        ("wallet", "first_activity_at", "first_activity_checked_at"),
        found,
        key=("wallet",),
        update=("first_activity_at", "first_activity_checked_at"),
    )
    return result.inserted + result.updated
