"""Alembic, driven in code: upgrade, downgrade and drift status for the warehouse schema."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from pm_assets.storage.urls import warehouse_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
VERSION_TABLE = "pm_intel_schema_version"


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    pending: list[str]
    unknown: bool  # the database is at a revision this code does not know (migration drift)

    @property
    def up_to_date(self) -> bool:
        return not self.pending and not self.unknown


def alembic_config(url: str) -> Config:
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", warehouse_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
    ensure_partitions(url)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def ensure_partitions(url: str, months_ahead: int = 6) -> int:
    """Create the monthly partitions of every time-series table up to `months_ahead` from now."""
    engine = create_engine(warehouse_url(url), hide_parameters=True)
    try:
        with engine.begin() as conn:
            exists = conn.execute(
                text("select to_regprocedure('pm_ensure_all_partitions(integer)')")
            ).scalar()
            if exists is None:
                return 0
            created = conn.execute(text("select pm_ensure_all_partitions(:m)"), {"m": months_ahead}).scalar()
            return int(created or 0)
    finally:
        engine.dispose()


def status(url: str) -> SchemaStatus:
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    assert head is not None
    engine = create_engine(warehouse_url(url), hide_parameters=True)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE}
            ).get_current_revision()
    finally:
        engine.dispose()
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        return SchemaStatus(current=current, head=head, pending=[], unknown=True)
    pending = [rev.revision for rev in script.iterate_revisions(head, current)]
    return SchemaStatus(current=current, head=head, pending=list(reversed(pending)), unknown=False)
