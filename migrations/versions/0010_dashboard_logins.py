"""The dashboard roles become logins of their own.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

The dashboards used to log in as the migrating user (a superuser on the embedded server) and `SET ROLE`
to pm_intel_reader / pm_intel_editor, which any statement can undo with `RESET ROLE`. As logins, the
session user is the role itself: `RESET ROLE` returns to it, and it holds nothing more than its grants.

Passwords: none are set here (a migration's history is no place for a secret). The embedded server trusts
connections on its unix socket, which lives in a folder only the system user running pm-intel can open;
on an external server an administrator sets them (`alter role pm_intel_reader password '...'`) and gives
the dashboards DASHBOARD_DATABASE_URL / DASHBOARD_EDITOR_DATABASE_URL (README, "An external Postgres").
Without a password, password authentication refuses these logins.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter role pm_intel_reader login connection limit 32")
    op.execute("alter role pm_intel_editor login connection limit 16")


def downgrade() -> None:
    op.execute("alter role pm_intel_editor nologin connection limit -1")
    op.execute("alter role pm_intel_reader nologin connection limit -1")
