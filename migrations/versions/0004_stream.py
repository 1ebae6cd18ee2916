"""Websocket stream additions: markets announced on the channel (`new_market`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

The tick tables, stream_health and heartbeats are in 0001. `new_market` frames are the fastest way to learn of
a market (polymarket-api.md L.1); the consumer subscribes their assets at once and records the announcement
here, one row per condition id, before Gamma ingestion has the market.

The hot tick tables keep 0001's condition-id check, written without a regular expression: the regex alone took
about half of the server's COPY time (ws_price_changes: ~25k rows/s with it, ~50k without, ~33k with this form,
`pm-intel bench stream` era measurements on the shared 2-core box). Same rule: '0x' then exactly 64 lowercase
hex digits.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The same rule twice: 0x then exactly 64 lowercase hex digits. Parent tables: the check covers every partition.
FAST_CHECKS = """
    alter table ws_book_snapshots drop constraint ws_book_snapshots_condition_id_check;
    alter table ws_book_snapshots add constraint ws_book_snapshots_condition_id_check check (length(condition_id) = 66
        and left(condition_id, 2) = '0x' and ltrim(substr(condition_id, 3), '0123456789abcdef') = '');
    alter table ws_price_changes drop constraint ws_price_changes_condition_id_check;
    alter table ws_price_changes add constraint ws_price_changes_condition_id_check check (length(condition_id) = 66
        and left(condition_id, 2) = '0x' and ltrim(substr(condition_id, 3), '0123456789abcdef') = '');
    alter table ws_last_trades drop constraint ws_last_trades_condition_id_check;
    alter table ws_last_trades add constraint ws_last_trades_condition_id_check check (length(condition_id) = 66
        and left(condition_id, 2) = '0x' and ltrim(substr(condition_id, 3), '0123456789abcdef') = '');
    alter table ws_best_bid_ask drop constraint ws_best_bid_ask_condition_id_check;
    alter table ws_best_bid_ask add constraint ws_best_bid_ask_condition_id_check check (length(condition_id) = 66
        and left(condition_id, 2) = '0x' and ltrim(substr(condition_id, 3), '0123456789abcdef') = '');
    alter table ws_tick_size_changes drop constraint ws_tick_size_changes_condition_id_check;
    alter table ws_tick_size_changes add constraint ws_tick_size_changes_condition_id_check check (
        length(condition_id) = 66 and left(condition_id, 2) = '0x'
        and ltrim(substr(condition_id, 3), '0123456789abcdef') = '');
"""
REGEX_CHECKS = """
    alter table ws_book_snapshots drop constraint ws_book_snapshots_condition_id_check;
    alter table ws_book_snapshots add constraint ws_book_snapshots_condition_id_check
        check (condition_id ~ '^0x[0-9a-f]{64}$');
    alter table ws_price_changes drop constraint ws_price_changes_condition_id_check;
    alter table ws_price_changes add constraint ws_price_changes_condition_id_check
        check (condition_id ~ '^0x[0-9a-f]{64}$');
    alter table ws_last_trades drop constraint ws_last_trades_condition_id_check;
    alter table ws_last_trades add constraint ws_last_trades_condition_id_check
        check (condition_id ~ '^0x[0-9a-f]{64}$');
    alter table ws_best_bid_ask drop constraint ws_best_bid_ask_condition_id_check;
    alter table ws_best_bid_ask add constraint ws_best_bid_ask_condition_id_check
        check (condition_id ~ '^0x[0-9a-f]{64}$');
    alter table ws_tick_size_changes drop constraint ws_tick_size_changes_condition_id_check;
    alter table ws_tick_size_changes add constraint ws_tick_size_changes_condition_id_check
        check (condition_id ~ '^0x[0-9a-f]{64}$');
"""


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
    op.execute(FAST_CHECKS)


def downgrade() -> None:
    op.execute(REGEX_CHECKS)
    op.execute(
        """
        drop index if exists ws_book_snapshots_ts_brin;
        drop index if exists ws_last_trades_ts_brin;
        drop index if exists ws_price_changes_ts_brin;
        drop index if exists stream_health_gap_idx;
        drop table if exists ws_new_markets;
        """
    )
