"""Universe additions: events, markets and tokens keep `updated_at` honest.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The universe is upserted with `... do update ... where (cols) is distinct from (excluded cols)`, so a row is
touched only when Gamma changed it; this trigger stamps `updated_at` on exactly those rows (a re-run that
changes nothing leaves every row, `updated_at` included, as it was).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("events", "markets", "tokens")


def upgrade() -> None:
    op.execute(
        """
        create or replace function pm_universe_touch_updated_at() returns trigger language plpgsql as $$
        begin
            new.updated_at := now();
            return new;
        end $$;
        """
    )
    for table in TABLES:
        op.execute(
            f"create trigger {table}_touch_updated_at before update on {table} "
            "for each row execute function pm_universe_touch_updated_at()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"drop trigger if exists {table}_touch_updated_at on {table}")
    op.execute("drop function if exists pm_universe_touch_updated_at()")
