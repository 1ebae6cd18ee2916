"""Market signals: arbitrage windows, spikes, rankings, scorecard.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# The tick tables' time indexes (BRIN on server_ts) come with 0004; these serve the signals' own lookups.
UPGRADE = """
create index if not exists price_spikes_token_kind_idx on price_spikes (token_id, kind, window_end);
create index if not exists arbitrage_windows_set_idx on arbitrage_windows ((evidence->>'set_key'), kind, opened_at);
create index if not exists signal_scorecard_table_horizon_idx on signal_scorecard (signal_table, horizon);
"""

DOWNGRADE = """
drop index if exists signal_scorecard_table_horizon_idx;
drop index if exists arbitrage_windows_set_idx;
drop index if exists price_spikes_token_kind_idx;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
