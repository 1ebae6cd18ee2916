"""Bulk writes: COPY into a staging table, then one INSERT ... ON CONFLICT, in one transaction per batch.

Every writer in pm-intel goes through `copy_upsert`, so idempotency (re-runs, overlapping pages, backfills)
is decided by each table's key in one place, never row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class UpsertResult:
    staged: int
    inserted: int
    updated: int

    @property
    def skipped(self) -> int:
        """Rows that were already there unchanged (duplicates of stored rows or of each other)."""
        return self.staged - self.inserted - self.updated


def copy_upsert(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    key: Sequence[str],
    update: Sequence[str] = (),
) -> UpsertResult:
    """Upsert `rows` into `table` keyed on `key`; with `update`, those columns are refreshed on conflict.

    Runs inside the caller's transaction (commit per batch is the caller's choice). Duplicate keys within the
    batch are collapsed (last one wins) so ON CONFLICT never sees one row twice.
    """
    stage = sql.Identifier(f"_stage_{table}")
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    keys = sql.SQL(", ").join(map(sql.Identifier, key))
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("create temp table if not exists {} (like {} including defaults) on commit drop").format(
                stage, sql.Identifier(table)
            )
        )
        cur.execute(sql.SQL("truncate {}").format(stage))
        staged = 0
        with cur.copy(sql.SQL("copy {} ({}) from stdin").format(stage, cols)) as copy:
            for row in rows:
                copy.write_row(row)
                staged += 1
        if staged == 0:
            return UpsertResult(0, 0, 0)
        src = sql.SQL("select distinct on ({keys}) {cols} from {stage} order by {keys}").format(
            keys=keys, cols=cols, stage=stage
        )
        action: sql.Composable
        if update:
            # Counted before the upsert: `returning (xmax = 0)` cannot tell inserts from updates on
            # partitioned tables ("cannot retrieve a system column in this context").
            cur.execute(
                sql.SQL(
                    "select count(*), count(t.{first}) from ({src}) s left join {table} t using ({keys})"
                ).format(first=sql.Identifier(key[0]), src=src, table=sql.Identifier(table), keys=keys)
            )
            distinct, existing = cur.fetchone()  # type: ignore[misc]
            action = sql.SQL("do update set {} where ({}) is distinct from ({})").format(
                sql.SQL(", ").join(
                    sql.SQL("{} = excluded.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in update
                ),
                sql.SQL(", ").join(
                    sql.SQL("{}.{}").format(sql.Identifier(table), sql.Identifier(c)) for c in update
                ),
                sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in update),
            )
        else:
            action = sql.SQL("do nothing")
        cur.execute(
            sql.SQL(
                "with src as ({src}) insert into {table} ({cols}) select {cols} from src "
                "on conflict ({keys}) {action} returning 1"
            ).format(src=src, keys=keys, cols=cols, table=sql.Identifier(table), action=action)
        )
        affected = len(cur.fetchall())
    if not update:
        return UpsertResult(staged=staged, inserted=affected, updated=0)
    inserted = int(distinct) - int(existing)
    return UpsertResult(staged=staged, inserted=inserted, updated=affected - inserted)
