"""Alert delivery additions: budgets, digests, latency.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

- alert_deliveries gains next_attempt_at (retries spread across sensor ticks) and last_status_code;
  indexes serve the pending queue and the per-rule daily budget count.
- alert_digests: one row per (rule, UTC day) whose budget held alerts back; its own delivery state.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
alter table alert_deliveries
    add column next_attempt_at timestamptz,
    add column last_status_code integer;
create index alert_deliveries_pending_idx on alert_deliveries (next_attempt_at nulls first, delivery_id)
    where status = 'pending';
create index alert_deliveries_rule_day_idx on alert_deliveries (rule_id, created_at);
create index alert_deliveries_signal_idx on alert_deliveries (signal_table, signal_key);

create table alert_digests (
    digest_id bigint generated always as identity primary key,
    rule_id integer not null references alert_rules (rule_id) on delete cascade,
    day date not null,
    held_back integer not null,
    status text not null check (status in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    last_error text,
    last_status_code integer,
    payload jsonb,
    next_attempt_at timestamptz,
    created_at timestamptz not null default now(),
    delivered_at timestamptz,
    unique (rule_id, day)
);
grant select on alert_digests to pm_intel_reader;
"""

DOWNGRADE = """
drop table if exists alert_digests;
drop index if exists alert_deliveries_signal_idx;
drop index if exists alert_deliveries_rule_day_idx;
drop index if exists alert_deliveries_pending_idx;
alter table alert_deliveries drop column if exists last_status_code, drop column if exists next_attempt_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
