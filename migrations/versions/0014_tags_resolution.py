"""Events keep Gamma's series; markets are found by tag and by how soon they end.

Revision ID: 0014
Revises: 0012 (the integrator rechains this after 0013, watchlists)
Create Date: 2026-12-02

Alert rules route by an event's or market's tags and series (issue 18), and the nearing-resolution page reads
open markets by end date. `events.tags` / `markets.tags` already hold Gamma's Tag objects (0001).
"""

from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        alter table events add column series jsonb not null default '[]'::jsonb;
        create index events_tags_gin on events using gin (tags jsonb_path_ops);
        create index markets_tags_gin on markets using gin (tags jsonb_path_ops);
        create index markets_open_end_date on markets (end_date) where not coalesce(closed, false);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        drop index if exists markets_open_end_date;
        drop index if exists markets_tags_gin;
        drop index if exists events_tags_gin;
        alter table events drop column if exists series;
        """
    )
