"""Bearer tokens of the read-only API.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Only a token's SHA-256 is stored: a token is 32 random bytes, so a fast hash is as strong as a slow one and a
leaked table gives nothing to replay. `prefix` (the first characters of the token) lets a person tell tokens
apart in `pm-intel api token list`. The API reads the table through pm_intel_reader (it checks a token with
that login, which can read hashes but never write); `pm-intel api token create/revoke` writes as the migrating
user.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = """
create table api_tokens (
    token_id integer generated always as identity primary key,
    name text not null,
    prefix text not null,
    token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
grant select on api_tokens to pm_intel_reader;
"""

DOWNGRADE = "drop table if exists api_tokens;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
