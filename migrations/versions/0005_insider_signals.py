"""Insider signals: fresh wallets, size anomalies, clusters, risk scores, noise control.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Every signal table keeps suppressed rows (suppressed_reason not null) so users see what noise control held back,
and keys rows deterministically from their inputs so re-runs and backfills upsert in place.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CONDITION_ID = "text not null check (condition_id ~ '^0x[0-9a-f]{64}$')"

UPGRADE = f"""
-- One alert per wallet, market and signal, then escalation tiers (1 = 2x, 2 = 5x the first alert's position).
alter table fresh_wallet_trades
    add column alert_tier smallint not null default 0,
    add column fill_count integer,
    add column updated_at timestamptz not null default now();

create table size_anomalies (
    signal_key text primary key,
    fill_key text not null,
    traded_at timestamptz not null,
    wallet text not null,
    condition_id {CONDITION_ID},
    token_id text not null,
    side text not null,
    price double precision not null,
    usdc_size double precision not null,
    fill_count integer not null,
    alert_tier smallint not null default 0,
    volume_24h_usdc double precision,
    volume_share double precision,
    depth_usdc double precision,
    depth_share double precision,
    niche boolean not null default false,
    anomaly_score double precision not null,
    risk_score double precision,
    suppressed_reason text,
    evidence jsonb not null,
    detected_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index size_anomalies_time_idx on size_anomalies (traded_at desc);
create index size_anomalies_wallet_idx on size_anomalies (wallet, condition_id);
create index size_anomalies_market_idx on size_anomalies (condition_id, traded_at desc);

create table wallet_clusters (
    signal_key text primary key,
    condition_id {CONDITION_ID},
    token_id text not null,
    started_at timestamptz not null,
    ended_at timestamptz not null,
    wallet_count integer not null,
    wallets text[] not null,
    total_usdc double precision not null,
    risk_score double precision,
    suppressed_reason text,
    evidence jsonb not null,
    detected_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index wallet_clusters_time_idx on wallet_clusters (started_at desc);
create index wallet_clusters_token_idx on wallet_clusters (token_id, started_at);
create index wallet_clusters_wallets_idx on wallet_clusters using gin (wallets);

-- Behaviour labels computed from trades (market_maker, bot, settlement_sweeper); the wallets table's own
-- labels column belongs to wallet ingestion.
create table wallet_behaviour_labels (
    wallet text not null,
    label text not null check (label in ('market_maker', 'bot', 'settlement_sweeper')),
    evidence jsonb not null,
    computed_at timestamptz not null default now(),
    primary key (wallet, label)
);

create table trade_risk_scores (
    fill_key text primary key,
    traded_at timestamptz not null,
    wallet text not null,
    condition_id {CONDITION_ID},
    score double precision not null,
    components jsonb not null,
    reason text not null,
    suppressed_reason text,
    updated_at timestamptz not null default now()
);
create index trade_risk_scores_time_idx on trade_risk_scores (traded_at desc);
create index trade_risk_scores_wallet_idx on trade_risk_scores (wallet);

create table wallet_risk_scores (
    wallet text primary key,
    score double precision not null,
    top_fill_key text not null,
    condition_id {CONDITION_ID},
    reason text not null,
    alert_count integer not null,
    last_signal_at timestamptz not null,
    components jsonb not null,
    updated_at timestamptz not null default now()
);
create index wallet_risk_scores_score_idx on wallet_risk_scores (score desc);
"""

DOWNGRADE = """
drop table if exists wallet_risk_scores;
drop table if exists trade_risk_scores;
drop table if exists wallet_behaviour_labels;
drop table if exists wallet_clusters;
drop table if exists size_anomalies;
alter table fresh_wallet_trades
    drop column if exists alert_tier,
    drop column if exists fill_count,
    drop column if exists updated_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
