"""Wallet watchlists and the watched_wallet signal (issue 18).

Revision ID: 0013
Revises: 0014
Create Date: 2026-12-02

Named lists of wallets with a label and a note each, written by the dashboards' editor role (like alert rules
and threshold overrides) and read by everyone. `min_position_usdc` is the list's own position size that fires
the signal (null: the signal's `watched_min_usdc` threshold; 0: any trade). `watched_wallet_trades` is the
signal's table, shaped like the other position signals (one alert per wallet and market, then escalations).

Numbered 0013 (reserved for it) but chained after 0014 (tags_resolution), which landed on main first.
"""

from alembic import op

revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None

UPGRADE = """
create table watchlists (
    watchlist_id bigint generated always as identity primary key,
    name text not null unique check (length(name) between 1 and 200),
    min_position_usdc double precision check (min_position_usdc >= 0 and min_position_usdc <= 1e12),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table watchlist_wallets (
    watchlist_id bigint not null references watchlists (watchlist_id) on delete cascade,
    wallet text not null check (wallet ~ '^0x[0-9a-f]{40}$'),
    label text check (length(label) <= 200),
    note text check (length(note) <= 2000),
    added_at timestamptz not null default now(),
    primary key (watchlist_id, wallet)
);
create index watchlist_wallets_wallet_idx on watchlist_wallets (wallet);

create table watched_wallet_trades (
    signal_key text primary key,
    fill_key text not null,
    traded_at timestamptz not null,
    wallet text not null,
    condition_id text not null check (condition_id ~ '^0x[0-9a-f]{64}$'),
    token_id text not null,
    side text not null,
    price double precision not null,
    usdc_size double precision not null,
    fill_count integer not null,
    alert_tier smallint not null default 0,
    watchlists text[] not null,
    min_position_usdc double precision not null,
    suppressed_reason text,
    evidence jsonb not null,
    detected_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index watched_wallet_trades_time_idx on watched_wallet_trades (traded_at desc);
create index watched_wallet_trades_wallet_idx on watched_wallet_trades (wallet, condition_id);
create index watched_wallet_trades_market_idx on watched_wallet_trades (condition_id, traded_at desc);

grant select on watchlists, watchlist_wallets, watched_wallet_trades to pm_intel_reader;
grant select, insert, update, delete on watchlists, watchlist_wallets to pm_intel_editor;
"""

DOWNGRADE = """
drop table if exists watched_wallet_trades;
drop table if exists watchlist_wallets;
drop table if exists watchlists;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
