"""What-if signal runs write beside the live tables; wallet clusters are read by when they ended.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

A run launched with `what_if: true` evaluates a signal under thresholds typed in the Launchpad without touching
the live table (whose rows may have been alerted and delivered), its watermark or the saved thresholds. Its rows
land here, one batch per what_if_id, each with the thresholds it ran under.

wallet_clusters' time column is ended_at everywhere (alerts already used it; the dashboards, scorecard and
rankings used started_at): a cluster exists once its last member entered. Its time index follows.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table signal_what_if (
            what_if_id text not null,
            signal_type text not null,
            signal_key text not null,
            evaluated_at timestamptz not null default now(),
            suppressed_reason text,
            thresholds jsonb not null,
            row jsonb not null,
            primary key (what_if_id, signal_type, signal_key)
        );
        create index signal_what_if_recent_idx on signal_what_if (signal_type, evaluated_at desc);
        create index wallet_clusters_ended_idx on wallet_clusters (ended_at desc);
        """
    )


def downgrade() -> None:
    op.execute("drop index wallet_clusters_ended_idx")
    op.execute("drop table signal_what_if")
