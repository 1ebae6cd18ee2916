"""Foundation: the warehouse schema, partition maintenance and the dashboard roles.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Conventions (see ../shared/ARCHITECTURE.md):
- condition ids only in the 66-character form (a CHECK enforces it);
- outcome ids (CTF token ids and Protocol V2 position ids) are decimal text;
- every table has a key that makes re-running any write a no-op;
- time series are range-partitioned by month (pm_ensure_monthly_partitions creates them ahead).
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CONDITION_ID = "text not null check (condition_id ~ '^0x[0-9a-f]{64}$')"

# (table, partition column, first month): the time-series tables and how far back they reach.
PARTITIONED = [
    ("raw_payloads", "fetched_at", "2026-01-01"),
    ("trades", "traded_at", "2024-01-01"),
    ("order_book_snapshots", "captured_at", "2026-01-01"),
    ("price_points", "ts", "2024-01-01"),
    ("ws_book_snapshots", "server_ts", "2026-01-01"),
    ("ws_price_changes", "server_ts", "2026-01-01"),
    ("ws_last_trades", "server_ts", "2026-01-01"),
    ("ws_best_bid_ask", "server_ts", "2026-01-01"),
    ("ws_tick_size_changes", "server_ts", "2026-01-01"),
]

PARTITION_FUNCTION = """
create or replace function pm_ensure_monthly_partitions(parent regclass, first_month date, last_month date)
returns integer language plpgsql as $$
declare
    m date := date_trunc('month', first_month)::date;
    created integer := 0;
    part text;
begin
    while m <= last_month loop
        part := format('%s_p%s', parent::text, to_char(m, 'YYYYMM'));
        if to_regclass(part) is null then
            execute format('create table %I partition of %s for values from (%L) to (%L)',
                           part, parent, m, (m + interval '1 month')::date);
            created := created + 1;
        end if;
        m := (m + interval '1 month')::date;
    end loop;
    return created;
end $$;

create or replace function pm_ensure_all_partitions(months_ahead integer default 6)
returns integer language plpgsql as $$
declare
    created integer := 0;
    r record;
begin
    for r in select c.relname::text as parent,
                    coalesce(min(to_date(right(p.relname, 6), 'YYYYMM')), date_trunc('month', now())::date) as first_month
             from pg_partitioned_table pt
             join pg_class c on c.oid = pt.partrelid
             join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
             left join pg_inherits i on i.inhparent = c.oid
             left join pg_class p on p.oid = i.inhrelid and p.relname ~ '_p[0-9]{6}$'
             group by c.relname
    loop
        created := created + pm_ensure_monthly_partitions(
            r.parent::regclass, r.first_month, (date_trunc('month', now()) + make_interval(months => months_ahead))::date);
    end loop;
    return created;
end $$;
"""

TABLES = f"""
create table ingestion_cursors (
    name text primary key,
    value jsonb not null default '{{}}'::jsonb,
    complete_through timestamptz,
    updated_at timestamptz not null default now()
);

create table raw_payloads (
    id bigint generated always as identity,
    fetched_at timestamptz not null default now(),
    source text not null,
    endpoint text not null,
    request jsonb not null default '{{}}'::jsonb,
    status_code integer,
    body text,
    error text,
    quarantined boolean not null default false,
    run_id text,
    primary key (fetched_at, id)
) partition by range (fetched_at);
create index raw_payloads_quarantined_idx on raw_payloads (fetched_at desc) where quarantined;

create table events (
    event_id text primary key,
    slug text,
    title text,
    description text,
    category text,
    neg_risk boolean not null default false,
    neg_risk_market_id text,
    neg_risk_augmented boolean not null default false,
    active boolean,
    closed boolean,
    volume double precision,
    volume_24h double precision,
    liquidity double precision,
    start_date timestamptz,
    end_date timestamptz,
    tags jsonb not null default '[]'::jsonb,
    upstream_updated_at timestamptz,
    first_seen_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index events_slug_idx on events (slug);

create table markets (
    condition_id {CONDITION_ID} primary key,
    market_id text unique,
    event_id text references events (event_id) on delete set null,
    version text not null default 'v1' check (version in ('v1', 'v2')),
    slug text,
    question text,
    description text,
    outcomes jsonb not null default '[]'::jsonb,
    question_id text,
    neg_risk boolean not null default false,
    neg_risk_market_id text,
    neg_risk_other boolean not null default false,
    group_item_title text,
    active boolean,
    closed boolean,
    archived boolean,
    accepting_orders boolean,
    enable_order_book boolean,
    tick_size double precision,
    min_order_size double precision,
    fees_enabled boolean,
    fee_schedule jsonb,
    volume double precision,
    volume_24h double precision,
    liquidity double precision,
    best_bid double precision,
    best_ask double precision,
    spread double precision,
    last_trade_price double precision,
    start_date timestamptz,
    end_date timestamptz,
    closed_time timestamptz,
    resolution_status text,
    winning_token_id text,
    resolved_at timestamptz,
    tags jsonb not null default '[]'::jsonb,
    upstream_updated_at timestamptz,
    first_seen_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index markets_event_idx on markets (event_id);
create index markets_neg_risk_market_idx on markets (neg_risk_market_id) where neg_risk_market_id is not null;
create index markets_open_volume_idx on markets (closed, volume_24h desc nulls last);
create index markets_slug_idx on markets (slug);

create table tokens (
    token_id text primary key check (token_id ~ '^[0-9]{{1,78}}$'),
    condition_id {CONDITION_ID} references markets (condition_id) on delete cascade,
    outcome text,
    outcome_index integer not null,
    version text not null check (version in ('v1', 'v2')),
    has_book boolean,
    winner boolean,
    updated_at timestamptz not null default now(),
    unique (condition_id, outcome_index)
);

create table market_resolutions (
    condition_id {CONDITION_ID} primary key,
    status text not null,
    payouts jsonb,
    winning_token_id text,
    winning_outcome text,
    was_disputed boolean not null default false,
    was_arbitrated boolean not null default false,
    extended_review boolean not null default false,
    reporter text,
    resolution_source text,
    resolved_at timestamptz,
    source text not null,
    updated_at timestamptz not null default now()
);

-- Trades have no id upstream. fill_key = sha1 over (transaction_hash, token_id, wallet, side, price, size,
-- occurrence), occurrence being the ordinal of identical fills inside one transaction (see trades/fill_key.py).
create table trades (
    traded_at timestamptz not null,
    fill_key text not null,
    transaction_hash text not null,
    token_id text not null,
    condition_id {CONDITION_ID},
    wallet text not null,
    side text not null check (side in ('BUY', 'SELL')),
    price double precision not null check (price >= 0 and price <= 1),
    size double precision not null check (size >= 0),
    usdc_size double precision generated always as (price * size) stored,
    outcome text,
    outcome_index integer,
    occurrence smallint not null default 0,
    is_taker boolean not null default true,
    source text not null,
    ingested_at timestamptz not null default now(),
    primary key (traded_at, fill_key)
) partition by range (traded_at);
create index trades_condition_time_idx on trades (condition_id, traded_at desc);
create index trades_wallet_time_idx on trades (wallet, traded_at desc);
create index trades_token_time_idx on trades (token_id, traded_at desc);
create index trades_ingested_idx on trades (ingested_at);

create table trade_loss_events (
    id bigint generated always as identity primary key,
    detected_at timestamptz not null default now(),
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    reason text not null,
    evidence jsonb not null default '{{}}'::jsonb,
    repaired_at timestamptz,
    repair jsonb,
    unique (interval_start, interval_end)
);
create index trade_loss_events_open_idx on trade_loss_events (detected_at) where repaired_at is null;

create table wallets (
    wallet text primary key check (wallet ~ '^0x[0-9a-f]{{40}}$'),
    first_activity_at timestamptz,
    first_activity_checked_at timestamptz,
    first_seen_at timestamptz not null default now(),
    last_seen_at timestamptz,
    trade_count bigint not null default 0,
    volume_usdc double precision not null default 0,
    labels text[] not null default '{{}}',
    updated_at timestamptz not null default now()
);
create index wallets_first_activity_idx on wallets (first_activity_at desc nulls last);
create index wallets_volume_idx on wallets (volume_usdc desc);

create table order_book_snapshots (
    captured_at timestamptz not null,
    token_id text not null,
    condition_id {CONDITION_ID},
    source text not null default 'rest',
    book_timestamp timestamptz,
    book_hash text,
    best_bid double precision,
    best_ask double precision,
    spread double precision,
    mid double precision,
    bid_depth_usdc jsonb,
    ask_depth_usdc jsonb,
    bids jsonb not null default '[]'::jsonb,
    asks jsonb not null default '[]'::jsonb,
    primary key (token_id, captured_at, source)
) partition by range (captured_at);
create index order_book_snapshots_time_idx on order_book_snapshots (captured_at desc);

create table price_points (
    token_id text not null,
    ts timestamptz not null,
    price double precision not null check (price >= 0 and price <= 1),
    source text not null default 'clob',
    primary key (token_id, ts, source)
) partition by range (ts);

create table ws_book_snapshots (
    server_ts timestamptz not null,
    token_id text not null,
    book_hash text not null,
    condition_id {CONDITION_ID},
    received_at timestamptz not null,
    bids jsonb not null,
    asks jsonb not null,
    tick_size double precision,
    last_trade_price double precision,
    version text,
    primary key (token_id, server_ts, book_hash)
) partition by range (server_ts);

create table ws_price_changes (
    server_ts timestamptz not null,
    token_id text not null,
    side text not null,
    price double precision not null,
    change_hash text not null default '',
    condition_id {CONDITION_ID},
    size double precision not null,
    best_bid double precision,
    best_ask double precision,
    received_at timestamptz not null,
    primary key (token_id, server_ts, side, price, change_hash)
) partition by range (server_ts);

create table ws_last_trades (
    server_ts timestamptz not null,
    token_id text not null,
    price double precision not null,
    size double precision not null,
    side text not null,
    transaction_hash text not null default '',
    condition_id {CONDITION_ID},
    fee_rate_bps double precision,
    received_at timestamptz not null,
    primary key (token_id, server_ts, price, size, side, transaction_hash)
) partition by range (server_ts);
create index ws_last_trades_condition_idx on ws_last_trades (condition_id, server_ts);

create table ws_best_bid_ask (
    server_ts timestamptz not null,
    token_id text not null,
    condition_id {CONDITION_ID},
    best_bid double precision,
    best_ask double precision,
    spread double precision,
    received_at timestamptz not null,
    primary key (token_id, server_ts)
) partition by range (server_ts);

create table ws_tick_size_changes (
    server_ts timestamptz not null,
    token_id text not null,
    condition_id {CONDITION_ID},
    old_tick_size double precision,
    new_tick_size double precision not null,
    received_at timestamptz not null,
    primary key (token_id, server_ts)
) partition by range (server_ts);

-- Every long-running part (stream consumer, trade poll, alert delivery) beats here; supervisors and
-- `pm-intel status` read it.
create table heartbeats (
    part text primary key,
    last_beat_at timestamptz not null,
    started_at timestamptz,
    run_id text,
    detail jsonb not null default '{{}}'::jsonb
);

create table stream_health (
    id bigint generated always as identity primary key,
    connection_id text not null,
    event text not null check (event in ('connect', 'disconnect', 'gap', 'stats', 'resync')),
    started_at timestamptz not null,
    ended_at timestamptz,
    messages bigint,
    lag_ms_p50 double precision,
    lag_ms_p99 double precision,
    detail jsonb not null default '{{}}'::jsonb,
    unique (connection_id, event, started_at)
);
create index stream_health_time_idx on stream_health (started_at desc);

-- Signal tables. signal_key is deterministic from the inputs, so re-runs and backfills upsert in place.
-- suppressed_reason is null for an alert-worthy signal; suppressed ones are kept so users see what was held back.
create table fresh_wallet_trades (
    signal_key text primary key,
    fill_key text not null,
    traded_at timestamptz not null,
    wallet text not null,
    condition_id {CONDITION_ID},
    token_id text not null,
    side text not null,
    price double precision not null,
    usdc_size double precision not null,
    wallet_first_activity_at timestamptz,
    wallet_age_hours double precision,
    prior_trade_count integer,
    market_liquidity double precision,
    risk_score double precision,
    suppressed_reason text,
    evidence jsonb not null,
    detected_at timestamptz not null default now()
);
create index fresh_wallet_trades_time_idx on fresh_wallet_trades (traded_at desc);
create index fresh_wallet_trades_wallet_idx on fresh_wallet_trades (wallet, traded_at desc);
create index fresh_wallet_trades_market_idx on fresh_wallet_trades (condition_id, traded_at desc);

create table arbitrage_windows (
    signal_key text primary key,
    kind text not null check (kind in ('binary_ask', 'binary_bid', 'negrisk_ask', 'negrisk_bid')),
    condition_id text,
    event_id text,
    opened_at timestamptz not null,
    closed_at timestamptz,
    duration_s double precision,
    peak_edge double precision not null,
    peak_at timestamptz,
    fillable_size double precision,
    profit_at_peak double precision,
    profit_after_fees double precision,
    capturable_usdc double precision,
    suppressed_reason text,
    evidence jsonb not null,
    detected_at timestamptz not null default now()
);
create index arbitrage_windows_open_idx on arbitrage_windows (opened_at desc);
create index arbitrage_windows_live_idx on arbitrage_windows (opened_at) where closed_at is null;

create table price_spikes (
    signal_key text primary key,
    kind text not null check (kind in ('price_move', 'volume_z')),
    condition_id {CONDITION_ID},
    token_id text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    price_before double precision,
    price_after double precision,
    move_points double precision,
    volume_usdc double precision,
    volume_z double precision,
    suppressed_reason text,
    evidence jsonb not null,
    detected_at timestamptz not null default now()
);
create index price_spikes_time_idx on price_spikes (window_end desc);
create index price_spikes_market_idx on price_spikes (condition_id, window_end desc);

create table market_rankings (
    ranked_at timestamptz not null,
    condition_id {CONDITION_ID},
    rank integer not null,
    score double precision not null,
    components jsonb not null,
    primary key (ranked_at, condition_id)
);
create index market_rankings_latest_idx on market_rankings (ranked_at desc, rank);

create table signal_scorecard (
    signal_table text not null,
    signal_key text not null,
    horizon text not null check (horizon in ('1h', '24h', 'settlement')),
    condition_id {CONDITION_ID},
    direction_token_id text,
    price_at_signal double precision,
    price_at_horizon double precision,
    move_in_direction double precision,
    correct boolean,
    paper_profit double precision,
    scored_at timestamptz not null default now(),
    evidence jsonb not null default '{{}}'::jsonb,
    primary key (signal_table, signal_key, horizon)
);
create index signal_scorecard_market_idx on signal_scorecard (condition_id);

create table threshold_overrides (
    signal_type text not null,
    name text not null,
    value jsonb not null,
    updated_at timestamptz not null default now(),
    updated_by text,
    primary key (signal_type, name)
);

create table alert_rules (
    rule_id integer generated always as identity primary key,
    name text not null unique,
    signal_type text not null,
    filters jsonb not null default '{{}}'::jsonb,
    destination_kind text not null check (destination_kind in ('slack', 'discord', 'json')),
    webhook_url text not null,
    enabled boolean not null default true,
    daily_budget integer check (daily_budget is null or daily_budget > 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table alert_deliveries (
    delivery_id bigint generated always as identity primary key,
    rule_id integer not null references alert_rules (rule_id) on delete cascade,
    signal_table text not null,
    signal_key text not null,
    status text not null check (status in ('pending', 'delivered', 'failed', 'over_budget', 'digested')),
    attempts integer not null default 0,
    last_error text,
    payload jsonb,
    upstream_at timestamptz,
    ingested_at timestamptz,
    signal_at timestamptz,
    first_attempt_at timestamptz,
    delivered_at timestamptz,
    created_at timestamptz not null default now(),
    unique (rule_id, signal_table, signal_key)
);
create index alert_deliveries_status_idx on alert_deliveries (status, created_at);
create index alert_deliveries_time_idx on alert_deliveries (created_at desc);
"""

ROLES = """
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'pm_intel_reader') then
        create role pm_intel_reader nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'pm_intel_editor') then
        create role pm_intel_editor nologin;
    end if;
end $$;
grant pm_intel_reader to pm_intel_editor;
grant pm_intel_reader to current_user;
grant pm_intel_editor to current_user;
grant usage on schema public to pm_intel_reader;
grant select on all tables in schema public to pm_intel_reader;
alter default privileges in schema public grant select on tables to pm_intel_reader;
-- The webhook URL is a secret: the read-only role sees every alert_rules column but that one.
revoke select on alert_rules from pm_intel_reader;
grant select (rule_id, name, signal_type, filters, destination_kind, enabled, daily_budget, created_at, updated_at)
    on alert_rules to pm_intel_reader;
grant select, insert, update, delete on alert_rules, threshold_overrides to pm_intel_editor;
grant insert on alert_deliveries to pm_intel_editor;
"""


def upgrade() -> None:
    op.execute(PARTITION_FUNCTION)
    op.execute(TABLES)
    for table, _column, first_month in PARTITIONED:
        op.execute(
            f"select pm_ensure_monthly_partitions('{table}'::regclass, date '{first_month}', "
            "(date_trunc('month', now()) + interval '6 months')::date)"
        )
        # Rows older than the first month (rare: deep history) land here instead of failing.
        op.execute(f"create table {table}_default partition of {table} default")
    op.execute(ROLES)


def downgrade() -> None:
    op.execute(
        """
        revoke all on all tables in schema public from pm_intel_reader, pm_intel_editor;
        alter default privileges in schema public revoke select on tables from pm_intel_reader;
        revoke usage on schema public from pm_intel_reader;
        """
    )
    for table in [
        "alert_deliveries",
        "alert_rules",
        "threshold_overrides",
        "signal_scorecard",
        "market_rankings",
        "price_spikes",
        "arbitrage_windows",
        "fresh_wallet_trades",
        "stream_health",
        "heartbeats",
        "ws_tick_size_changes",
        "ws_best_bid_ask",
        "ws_last_trades",
        "ws_price_changes",
        "ws_book_snapshots",
        "price_points",
        "order_book_snapshots",
        "wallets",
        "trade_loss_events",
        "trades",
        "market_resolutions",
        "tokens",
        "markets",
        "events",
        "raw_payloads",
        "ingestion_cursors",
    ]:
        op.execute(f"drop table if exists {table} cascade")
    op.execute("drop function if exists pm_ensure_all_partitions(integer)")
    op.execute("drop function if exists pm_ensure_monthly_partitions(regclass, date, date)")
    # Roles are cluster-wide and may still hold grants in another database on the same server.
    op.execute(
        """
        do $$
        begin
            begin drop role if exists pm_intel_editor; exception when dependent_objects_still_exist then null; end;
            begin drop role if exists pm_intel_reader; exception when dependent_objects_still_exist then null; end;
        end $$;
        """
    )
