"""Every statement alert delivery runs (psycopg, bound parameters; identifiers via psycopg.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pm_sensors.alerts.sources import SignalSource

HELD = ("over_budget", "digested")


def db_now(conn: psycopg.Connection) -> datetime:
    return conn.execute("select now()").fetchone()[0]


def table_columns(conn: psycopg.Connection, tables: list[str]) -> dict[str, set[str]]:
    rows = conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = current_schema() and table_name = any(%s)",
        (tables,),
    ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


def enabled_rules(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select rule_id, name, signal_type, filters, destination_kind, webhook_url, daily_budget, created_at "
            "from alert_rules where enabled order by rule_id"
        ).fetchall()


def _signal_select(
    source: SignalSource, columns: set[str], conn_columns: dict[str, set[str]]
) -> sql.Composed:
    upstream = (
        sql.SQL("s.{}").format(sql.Identifier(source.upstream_column))
        if source.upstream_column and source.upstream_column in columns
        else sql.SQL("null::timestamptz")
    )
    lookup = source.ingested
    joinable = (
        lookup is not None
        and lookup.table in conn_columns
        and all(a in columns and b in conn_columns[lookup.table] for a, b in lookup.join)
    )
    if joinable:
        assert lookup is not None
        ingested = sql.SQL("(select i.{col} from {tbl} i where {on} limit 1)").format(
            col=sql.Identifier(lookup.column),
            tbl=sql.Identifier(lookup.table),
            on=sql.SQL(" and ").join(
                sql.SQL("i.{} = s.{}").format(sql.Identifier(b), sql.Identifier(a)) for a, b in lookup.join
            ),
        )
    else:
        ingested = sql.SQL("null::timestamptz")
    return sql.SQL("select s.*, {up} as upstream_at, {ing} as ingested_at from {table} s").format(
        up=upstream, ing=ingested, table=sql.Identifier(source.table)
    )


def new_signals(conn, source, columns, conn_columns, after: tuple[datetime, str], limit: int) -> list[dict]:
    """Alert-worthy rows past the cursor (detected_at, signal_key), oldest first."""
    query = sql.SQL(
        "{} where s.suppressed_reason is null and (s.detected_at, s.signal_key) > (%s, %s) "
        "order by s.detected_at, s.signal_key limit %s"
    ).format(_signal_select(source, columns, conn_columns))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (after[0], after[1], limit)).fetchall()


def late_signals(
    conn, source, columns, conn_columns, since: datetime, upto: tuple[datetime, str], limit: int
) -> list[dict]:
    """Rows at or before the cursor that no rule has a delivery for yet.

    detected_at defaults to the writing transaction's start, so a slow writer commits rows that sort
    before rows already seen; this sweep over the last few minutes picks them up.
    """
    query = sql.SQL(
        "{} where s.suppressed_reason is null and s.detected_at > %s and (s.detected_at, s.signal_key) <= (%s, %s) "
        "and not exists (select 1 from alert_deliveries d where d.signal_table = %s and d.signal_key = s.signal_key) "
        "order by s.detected_at desc limit %s"
    ).format(_signal_select(source, columns, conn_columns))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (since, upto[0], upto[1], source.table, limit)).fetchall()


def lock_rule_budget(conn: psycopg.Connection, rule_id: int) -> None:
    conn.execute("select pg_advisory_xact_lock(hashtext('pm_intel_alert_budget'), %s)", (rule_id,))


def sent_today(conn: psycopg.Connection, rule_id: int, day_start: datetime) -> int:
    """Deliveries counted against the rule's budget since day_start: everything not held back."""
    return conn.execute(
        "select count(*) from alert_deliveries where rule_id = %s and created_at >= %s and status <> all(%s)",
        (rule_id, day_start, list(HELD)),
    ).fetchone()[0]


def existing_deliveries(conn: psycopg.Connection, table: str, keys: list[str]) -> set[tuple[int, str]]:
    rows = conn.execute(
        "select rule_id, signal_key from alert_deliveries where signal_table = %s and signal_key = any(%s)",
        (table, keys),
    ).fetchall()
    return {(rule_id, key) for rule_id, key in rows}


def insert_deliveries(conn: psycopg.Connection, table: str, items: list[dict[str, Any]]) -> list[str]:
    """Insert deliveries (rule_id, signal_key, status, payload, upstream_at, ingested_at, signal_at) in one
    pipelined batch; returns the status of each row actually inserted (a conflict inserts nothing)."""
    if not items:
        return []
    params = [
        (
            i["rule_id"],
            table,
            i["signal_key"],
            i["status"],
            Jsonb(i["payload"]),
            i["upstream_at"],
            i["ingested_at"],
            i["signal_at"],
        )
        for i in items
    ]
    statuses: list[str] = []
    with conn.cursor() as cur:
        cur.executemany(
            "insert into alert_deliveries (rule_id, signal_table, signal_key, status, payload, upstream_at, "
            "ingested_at, signal_at) values (%s, %s, %s, %s, %s, %s, %s, %s) "
            "on conflict (rule_id, signal_table, signal_key) do nothing returning status",
            params,
            returning=True,
        )
        while True:
            statuses.extend(row[0] for row in cur.fetchall())
            if not cur.nextset():
                break
    return statuses


_CLAIM = {
    "alert_deliveries": sql.SQL(
        "update alert_deliveries d set next_attempt_at = now() + make_interval(secs => %s) "
        "from alert_rules r where r.rule_id = d.rule_id and d.delivery_id in ("
        " select x.delivery_id from alert_deliveries x join alert_rules xr on xr.rule_id = x.rule_id"
        " where x.status = 'pending' and xr.enabled and (x.next_attempt_at is null or x.next_attempt_at <= now())"
        " order by x.next_attempt_at nulls first, x.delivery_id limit %s for update of x skip locked) "
        "returning d.delivery_id as id, d.rule_id, d.payload, d.attempts, r.webhook_url, r.name"
    ),
    "alert_digests": sql.SQL(
        "update alert_digests d set next_attempt_at = now() + make_interval(secs => %s) "
        "from alert_rules r where r.rule_id = d.rule_id and d.digest_id in ("
        " select x.digest_id from alert_digests x join alert_rules xr on xr.rule_id = x.rule_id"
        " where x.status = 'pending' and xr.enabled and (x.next_attempt_at is null or x.next_attempt_at <= now())"
        " order by x.next_attempt_at nulls first, x.digest_id limit %s for update of x skip locked) "
        "returning d.digest_id as id, d.rule_id, d.payload, d.attempts, r.webhook_url, r.name"
    ),
}


def claim_pending(conn: psycopg.Connection, table: str, limit: int, lease_s: float) -> list[dict]:
    """Lease up to `limit` due pending rows of enabled rules (a crashed sender's lease simply expires)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_CLAIM[table], (lease_s, limit)).fetchall()
    return sorted(rows, key=lambda r: r["id"])


def record_attempts(conn: psycopg.Connection, table: str, results: list[dict[str, Any]]) -> None:
    """results: id, status, attempts (made now), error, status_code, attempted_at, delivered_at, next_attempt_at."""
    if not results:
        return
    key = "delivery_id" if table == "alert_deliveries" else "digest_id"
    first = (
        sql.SQL(", first_attempt_at = coalesce(first_attempt_at, %(attempted_at)s)")
        if (table == "alert_deliveries")
        else sql.SQL("")
    )
    statement = sql.SQL(
        "update {table} set status = %(status)s, attempts = attempts + %(attempts)s, last_error = %(error)s, "
        "last_status_code = %(status_code)s, delivered_at = %(delivered_at)s, "
        "next_attempt_at = %(next_attempt_at)s{first} where {key} = %(id)s"
    ).format(table=sql.Identifier(table), first=first, key=sql.Identifier(key))
    with conn.cursor() as cur:
        cur.executemany(statement, results)


def held_back_before(conn: psycopg.Connection, day_start: datetime) -> list[dict]:
    """Per (rule, UTC day) before day_start: the over-budget deliveries not yet in a digest."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select d.rule_id, (d.created_at at time zone 'UTC')::date as day, count(*) as held_back, "
            "array_agg(d.delivery_id order by d.delivery_id) as ids, "
            "(array_agg(d.payload order by d.delivery_id))[1:5] as examples, "
            "r.name, r.signal_type, r.destination_kind, r.daily_budget "
            "from alert_deliveries d join alert_rules r on r.rule_id = d.rule_id "
            "where d.status = 'over_budget' and d.created_at < %s "
            "group by d.rule_id, 2, r.name, r.signal_type, r.destination_kind, r.daily_budget order by 1, 2",
            (day_start,),
        ).fetchall()


def insert_digest(
    conn: psycopg.Connection, rule_id: int, day, held_back: int, payload: dict, delivery_ids: list[int]
) -> bool:
    row = conn.execute(
        "insert into alert_digests (rule_id, day, held_back, status, payload) values (%s, %s, %s, 'pending', %s) "
        "on conflict (rule_id, day) do nothing returning digest_id",
        (rule_id, day, held_back, Jsonb(payload)),
    ).fetchone()
    if row:
        conn.execute(
            "update alert_deliveries set status = 'digested' where delivery_id = any(%s) and status = 'over_budget'",
            (delivery_ids,),
        )
    return row is not None
