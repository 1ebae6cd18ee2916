"""Dashboard read models: pre-aggregates and indexes the pages need.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Two rollups keep the market and wallet pages fast at tens of millions of trades:
- `market_volume_daily`: trades and USDC volume per market and UTC day;
- `wallet_positions`: net position, USDC bought/sold and trade count per wallet and outcome token.
`pm_refresh_dashboard_rollups()` brings both up to date incrementally: it adds the sums of the trades ingested
since its watermark (trades are insert-only, so each is counted once; the watermark stops before the oldest open
transaction, so a slow ingest is picked up next time) and records the new watermark in `rollup_watermarks`.
A Dagster asset calls it after trades land; the dashboards add the trades ingested after the watermark on the fly,
so the figures are exact even when the refresh lags (and still correct, only slower, if it never ran).
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
create table market_volume_daily (
    condition_id text not null,
    day date not null,
    trades bigint not null,
    volume_usdc double precision not null,
    primary key (condition_id, day)
);
create index market_volume_daily_day_idx on market_volume_daily (day);

create table wallet_positions (
    wallet text not null,
    token_id text not null,
    condition_id text not null,
    outcome text,
    net_size double precision not null,
    bought_usdc double precision not null,
    sold_usdc double precision not null,
    trades bigint not null,
    last_trade_at timestamptz not null,
    primary key (wallet, token_id)
);
create index wallet_positions_holders_idx on wallet_positions (condition_id, net_size desc);

create table rollup_watermarks (
    name text primary key,
    complete_through timestamptz not null,
    refreshed_at timestamptz not null default now(),
    pairs_recomputed bigint not null default 0
);

-- The markets page sorts by lifetime volume by default; an index turns that into a top-N read.
create index markets_volume_idx on markets (volume desc nulls last);
-- The overview's last-24-hours figures read a day of trades from this index alone (index-only scan, no heap);
-- it costs one more index entry per trade written.
create index trades_recent_cover_idx on trades (traded_at) include (usdc_size, wallet);

create or replace function pm_refresh_dashboard_rollups()
returns table (rollup text, pairs bigint) language plpgsql as $$
declare
    previous timestamptz;
    upto timestamptz;
    n_days bigint;
    n_positions bigint;
begin
    -- One refresh at a time; a second caller waits rather than double-counting.
    perform pg_advisory_xact_lock(hashtext('pm_refresh_dashboard_rollups'));
    -- trades.ingested_at is its writer's transaction start. Stop just before the oldest transaction still open
    -- here, so every trade at or before `upto` is committed and visible now: each trade is added exactly once.
    select least(now(), min(xact_start) - interval '1 microsecond') into upto
        from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
        and xact_start is not null;
    upto := coalesce(upto, now());
    select complete_through into previous from rollup_watermarks where name = 'dashboard_rollups';
    if previous is not null and upto <= previous then
        return query values ('market_volume_daily', 0::bigint), ('wallet_positions', 0::bigint);
        return;
    end if;
    previous := coalesce(previous, '-infinity');
    -- Trades are insert-only (ON CONFLICT DO NOTHING), so the rollups grow by the new trades' sums.
    insert into market_volume_daily as d (condition_id, day, trades, volume_usdc)
        select condition_id, (traded_at at time zone 'UTC')::date, count(*), coalesce(sum(usdc_size), 0)
        from trades where ingested_at > previous and ingested_at <= upto group by 1, 2
        on conflict (condition_id, day) do update
        set trades = d.trades + excluded.trades, volume_usdc = d.volume_usdc + excluded.volume_usdc;
    get diagnostics n_days = row_count;
    insert into wallet_positions as p (wallet, token_id, condition_id, outcome, net_size, bought_usdc, sold_usdc,
                                       trades, last_trade_at)
        select wallet, token_id, min(condition_id), min(outcome),
               sum(case when side = 'BUY' then size else -size end),
               coalesce(sum(usdc_size) filter (where side = 'BUY'), 0),
               coalesce(sum(usdc_size) filter (where side = 'SELL'), 0),
               count(*), max(traded_at)
        from trades where ingested_at > previous and ingested_at <= upto group by wallet, token_id
        on conflict (wallet, token_id) do update
        set net_size = p.net_size + excluded.net_size, bought_usdc = p.bought_usdc + excluded.bought_usdc,
            sold_usdc = p.sold_usdc + excluded.sold_usdc, trades = p.trades + excluded.trades,
            last_trade_at = greatest(p.last_trade_at, excluded.last_trade_at);
    get diagnostics n_positions = row_count;
    insert into rollup_watermarks (name, complete_through, refreshed_at, pairs_recomputed)
        values ('dashboard_rollups', upto, clock_timestamp(), n_days + n_positions)
        on conflict (name) do update set complete_through = excluded.complete_through,
            refreshed_at = excluded.refreshed_at, pairs_recomputed = excluded.pairs_recomputed;
    return query values ('market_volume_daily', n_days), ('wallet_positions', n_positions);
end $$;

grant select on market_volume_daily, wallet_positions, rollup_watermarks to pm_intel_reader;
"""

DOWNGRADE = """
drop function if exists pm_refresh_dashboard_rollups();
drop index if exists trades_recent_cover_idx;
drop index if exists markets_volume_idx;
drop table if exists rollup_watermarks;
drop table if exists wallet_positions;
drop table if exists market_volume_daily;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
