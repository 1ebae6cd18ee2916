"""Markets nearing resolution: open markets ending within a window, and markets whose resolution is in flight.

One statement over markets, events, tokens, price_points, market_resolutions and every signal table (from the
signal specs, so a new signal shows here once declared). Dagster- and Streamlit-free: the page caches it, tests
call it on a connection.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pm_assets.signals.specs import SIGNALS

# UMA states between "the market ended" and "resolved": a proposal in its liveness window, a dispute, a second
# proposal after one, or the extended review Polymarket puts contested markets in.
IN_FLIGHT = ("proposed", "disputed", "challenged", "in_review", "extended_review")
MAX_WINDOW_HOURS = 24 * 30

_BODY = """
with yes as (
    select condition_id, token_id from tokens where outcome_index = 0
),
chosen as (
    select m.condition_id, m.question, m.slug, e.slug as event_slug, e.title as event_title, m.end_date,
           m.volume_24h, m.liquidity, m.last_trade_price, m.closed,
           coalesce(r.status, m.resolution_status) as uma_status,
           coalesce(r.was_disputed, false) as was_disputed, coalesce(r.extended_review, false) as extended_review,
           m.tags, e.tags as event_tags
    from markets m
    left join events e on e.event_id = m.event_id
    left join market_resolutions r on r.condition_id = m.condition_id
    where coalesce(r.status, m.resolution_status, '') <> 'resolved'
      and (
        (not coalesce(m.closed, false) and m.end_date >= %(now)s and m.end_date < %(until)s)
        or (%(in_flight)s and (coalesce(r.status, m.resolution_status) = any(%(states)s)
                               or coalesce(r.extended_review, false)))
      )
    order by m.end_date nulls last
    limit %(limit)s
),
signals as (
    {signals}
)
select c.condition_id, c.question, c.event_title, c.event_slug, c.end_date,
       extract(epoch from c.end_date - %(now)s) / 3600.0 as hours_to_end,
       coalesce(p.price, c.last_trade_price) as price,
       coalesce(p.price, c.last_trade_price) - p24.price as move_24h,
       c.volume_24h, c.liquidity, coalesce(c.uma_status, 'open') as uma_status,
       c.was_disputed, c.extended_review,
       coalesce(s.signals, 0) as signals_24h, coalesce(s.types, '') as signal_types,
       (select string_agg(distinct coalesce(t ->> 'label', t #>> '{{}}'), ', ')
          from jsonb_array_elements(c.event_tags || c.tags) t) as tags
from chosen c
left join yes y on y.condition_id = c.condition_id
left join lateral (
    select price from price_points where token_id = y.token_id and ts <= %(now)s order by ts desc limit 1
) p on true
left join lateral (
    select price from price_points
    where token_id = y.token_id and ts <= %(now)s - interval '24 hours' order by ts desc limit 1
) p24 on true
left join (
    select condition_id, count(*) as signals, string_agg(distinct signal_type, ', ') as types
    from signals group by condition_id
) s on s.condition_id = c.condition_id
order by c.end_date nulls last, c.condition_id
"""


def _signals_union(conn: psycopg.Connection) -> sql.Composable:
    """Alert-worthy signals of the last 24 h on the chosen markets, from every signal table that exists."""
    present = {
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = current_schema()"
        ).fetchall()
    }
    parts = [
        sql.SQL(
            "select condition_id, {kind} as signal_type from {table} "
            "where suppressed_reason is null and {time} >= %(now)s - interval '24 hours' and {time} <= %(now)s "
            "and condition_id in (select condition_id from chosen)"
        ).format(
            kind=sql.Literal(s.signal_type), table=sql.Identifier(s.table), time=sql.Identifier(s.time_column)
        )
        for s in SIGNALS
        if s.has_market and s.time_column and s.table in present
    ]
    if not parts:
        return sql.SQL("select null::text as condition_id, null::text as signal_type where false")
    return sql.SQL(" union all ").join(parts)


def nearing_resolution(
    conn: psycopg.Connection,
    within_hours: float,
    *,
    in_flight: bool = True,
    now: datetime | None = None,
    limit: int = 500,
) -> list[dict]:
    """Rows ordered by end date (markets already ended and being resolved first): question, event, end date,
    hours to end, YES price and its 24 h move, 24 h volume, liquidity, UMA status, signals in the last 24 h."""
    if not 0 < within_hours <= MAX_WINDOW_HOURS:
        raise ValueError(f"within_hours must be in (0, {MAX_WINDOW_HOURS}], got {within_hours}")
    if now is None:
        now = conn.execute("select now()").fetchone()[0]
    until = conn.execute("select %s::timestamptz + %s * interval '1 hour'", (now, within_hours)).fetchone()[0]
    query = sql.SQL(_BODY).format(signals=_signals_union(conn))
    params = {"now": now, "until": until, "in_flight": in_flight, "states": list(IN_FLIGHT), "limit": limit}
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()
