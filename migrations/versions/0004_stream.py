"""Websocket stream additions: markets announced on the channel (`new_market`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

The tick tables, stream_health and heartbeats are in 0001. `new_market` frames are the fastest way to learn of
a market (polymarket-api.md L.1); the consumer subscribes their assets at once and records the announcement
here, one row per condition id, before Gamma ingestion has the market.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table ws_new_markets (
            condition_id text primary key check (condition_id ~ '^0x[0-9a-f]{64}$'),
            market_id text,
            question text,
            slug text,
            assets_ids jsonb not null default '[]'::jsonb,
            outcomes jsonb not null default '[]'::jsonb,
            server_ts timestamptz not null,
            received_at timestamptz not null,
            payload jsonb not null default '{}'::jsonb
        );
        create index ws_new_markets_time_idx on ws_new_markets (server_ts desc);
        create index stream_health_gap_idx on stream_health (started_at desc) where event = 'gap';
        -- The supervisor sensor counts recent ticks per time bucket; BRIN fits append-mostly time order
        -- and costs the hot insert path next to nothing.
        create index ws_price_changes_ts_brin on ws_price_changes using brin (server_ts);
        create index ws_last_trades_ts_brin on ws_last_trades using brin (server_ts);
        create index ws_book_snapshots_ts_brin on ws_book_snapshots using brin (server_ts);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        drop index if exists ws_book_snapshots_ts_brin;
        drop index if exists ws_last_trades_ts_brin;
        drop index if exists ws_price_changes_ts_brin;
        drop index if exists stream_health_gap_idx;
        drop table if exists ws_new_markets;
        """
    )
