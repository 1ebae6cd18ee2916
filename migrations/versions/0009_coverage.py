"""Coverage ledger, reconciliation and the dead-man's switch.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

A quiet hour must be told from a blind one: every source records, minute by minute, whether it was
covered, had a gap, or had a gap that was repaired, with the evidence.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
-- Proof that a source saw everything in [interval_start, interval_end): the trade feed's live edge writes one
-- each time it shows a page reaching its complete-through boundary; repairs write one for what they refilled.
create table coverage_proofs (
    id bigint generated always as identity primary key,
    source text not null,
    interval_start timestamptz not null,
    interval_end timestamptz not null check (interval_end >= interval_start),
    kind text not null default 'observed' check (kind in ('observed', 'repair')),
    evidence jsonb not null default '{}'::jsonb,
    recorded_at timestamptz not null default now()
);
create index coverage_proofs_source_idx on coverage_proofs (source, interval_end desc);

create table coverage_ledger (
    source text not null,
    minute timestamptz not null,
    state text not null check (state in ('covered', 'gap', 'repaired')),
    evidence jsonb not null default '{}'::jsonb,
    updated_at timestamptz not null default now(),
    primary key (source, minute)
);
create index coverage_ledger_minute_idx on coverage_ledger (minute desc);
create index coverage_ledger_gaps_idx on coverage_ledger (source, minute) where state = 'gap';

create table coverage_daily (
    source text not null,
    day date not null,
    covered_minutes integer not null,
    repaired_minutes integer not null,
    gap_minutes integer not null,
    expected_minutes integer not null,
    coverage_pct double precision not null,
    updated_at timestamptz not null default now(),
    primary key (source, day)
);

create table reconciliation_mismatches (
    condition_id text not null check (condition_id ~ '^0x[0-9a-f]{64}$'),
    minute timestamptz not null,
    stream_trades integer not null,
    feed_trades integer not null,
    state text not null default 'open' check (state in ('open', 'repaired', 'explained')),
    detected_at timestamptz not null default now(),
    repaired_at timestamptz,
    detail jsonb not null default '{}'::jsonb,
    primary key (condition_id, minute)
);
create index reconciliation_open_idx on reconciliation_mismatches (minute) where state = 'open';

-- The dead-man's switch: one row per watched part, so an outage alerts once and recovers once.
create table deadman_state (
    part text primary key,
    state text not null check (state in ('ok', 'silent')),
    since timestamptz not null,
    last_seen_at timestamptz,
    updated_at timestamptz not null default now()
);

create table deadman_events (
    id bigint generated always as identity primary key,
    part text not null,
    kind text not null check (kind in ('silent', 'recovered')),
    at timestamptz not null,
    detail jsonb not null default '{}'::jsonb,
    notified boolean not null default false,
    notify_error text
);
create index deadman_events_time_idx on deadman_events (at desc);

grant select on coverage_proofs, coverage_ledger, coverage_daily, reconciliation_mismatches,
    deadman_state, deadman_events to pm_intel_reader;
"""

DOWNGRADE = """
drop table if exists deadman_events;
drop table if exists deadman_state;
drop table if exists reconciliation_mismatches;
drop table if exists coverage_daily;
drop table if exists coverage_ledger;
drop table if exists coverage_proofs;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
