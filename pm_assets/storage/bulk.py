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
        if update:
            action = sql.SQL("do update set {} where ({}) is distinct from ({})").format(
                sql.SQL(", ").join(
                    sql.SQL("{} = excluded.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in update
                ),
                sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(table), sql.Identifier(c)) for c in update),
                sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in update),
            )
        else:
            action = sql.SQL("do nothing")  # returns only inserted rows, and works on partitioned tables
        inserted_flag = sql.SQL("(xmax = 0)") if update else sql.SQL("true")
        cur.execute(
            sql.SQL(
                "with src as (select distinct on ({keys}) {cols} from {stage} order by {keys}) "
                "insert into {table} ({cols}) select {cols} from src on conflict ({keys}) {action} "
                "returning {flag}"
            ).format(keys=keys, cols=cols, stage=stage, table=sql.Identifier(table), action=action, flag=inserted_flag)
        )
        flags = [r[0] for r in cur.fetchall()]
    inserted = sum(1 for f in flags if f)
    return UpsertResult(staged=staged, inserted=inserted, updated=len(flags) - inserted)
