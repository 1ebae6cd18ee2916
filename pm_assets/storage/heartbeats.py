"""Heartbeats: one row per long-running part (trade poll, alert delivery, the live driver, the stream consumer...).

`beat` stamps the part with the database clock, so ages compare with `now()` on the same server whatever the
writers' clocks say. The stream consumer writes its own beat inside its tick batches (`pm_sensors.stream`).
"""

from __future__ import annotations

import psycopg

from pm_assets.storage.jsonb import jsonb


def beat(conn: psycopg.Connection, part: str, detail: dict, run_id: str | None = None) -> None:
    conn.execute(
        "insert into heartbeats (part, last_beat_at, started_at, run_id, detail) values (%s, now(), now(), %s, %s) "
        "on conflict (part) do update set last_beat_at = now(), run_id = excluded.run_id, detail = excluded.detail",
        (part, run_id, jsonb(detail)),
    )


def last_beat(conn: psycopg.Connection, part: str) -> tuple[float, dict] | None:
    """(seconds since the part's last beat, its detail), or None when it never beat."""
    row = conn.execute(
        "select extract(epoch from now() - last_beat_at)::float8, detail from heartbeats where part = %s",
        (part,),
    ).fetchone()
    return (row[0], row[1] or {}) if row else None
