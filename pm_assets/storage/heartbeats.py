"""Heartbeats: one row per long-running part (trade poll, alert delivery, the live driver, the stream consumer...).

`beat` stamps the part with the database clock, so ages compare with `now()` on the same server whatever the
writers' clocks say. The stream consumer writes its own beat inside its tick batches (`pm_sensors.stream`).

A beat says the part's loop turns; whether it does its job is in the detail. Parts that talk to an upstream
beat with `beat_ok` / `beat_failure`, which keep `last_ok_at` (the last success) and `failing_since` (the first
failure since it, carried across failing beats), so `pm-intel status` can say "cannot reach … since …" about a
part whose loop is turning but has not once got through.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from pm_assets.storage.jsonb import jsonb


def beat(conn: psycopg.Connection, part: str, detail: dict, run_id: str | None = None) -> None:
    conn.execute(
        "insert into heartbeats (part, last_beat_at, started_at, run_id, detail) values (%s, now(), now(), %s, %s) "
        "on conflict (part) do update set last_beat_at = now(), run_id = excluded.run_id, detail = excluded.detail",
        (part, run_id, jsonb(detail)),
    )


def touch(conn: psycopg.Connection, part: str, detail: dict, run_id: str | None = None) -> None:
    """The part is alive and working (say, between the steps of a long pass): stamp it and merge `detail` into what
    its last beat said, keeping that beat's verdict (`ok`, `last_ok_at`, `failing_since`)."""
    conn.execute(
        "insert into heartbeats (part, last_beat_at, started_at, run_id, detail) values (%s, now(), now(), %s, %s) "
        "on conflict (part) do update set last_beat_at = now(), run_id = excluded.run_id, "
        "detail = coalesce(heartbeats.detail, '{}'::jsonb) || excluded.detail",
        (part, run_id, jsonb(detail)),
    )


def beat_ok(conn: psycopg.Connection, part: str, detail: dict, run_id: str | None = None) -> None:
    """The part did its job: `last_ok_at` is now, and it is failing no more."""
    conn.execute(
        "insert into heartbeats (part, last_beat_at, started_at, run_id, detail) "
        "values (%s, now(), now(), %s, %s || jsonb_build_object('last_ok_at', now())) "
        "on conflict (part) do update set last_beat_at = now(), run_id = excluded.run_id, detail = excluded.detail",
        (part, run_id, jsonb({**detail, "ok": True})),
    )


def beat_failure(
    conn: psycopg.Connection,
    part: str,
    detail: dict,
    *,
    attempt_started: datetime,
    unreachable: bool,
    run_id: str | None = None,
) -> None:
    """The loop turned, the job failed. `failing_since` stays the start of the first failed attempt since the last
    success; `last_ok_at` is carried over. `unreachable`: no answer at all (refused, DNS, timeout)."""
    conn.execute(
        """
        insert into heartbeats (part, last_beat_at, started_at, run_id, detail)
        values (%(part)s, now(), now(), %(run_id)s,
                %(detail)s || jsonb_build_object('failing_since', %(since)s::timestamptz, 'last_ok_at', null))
        on conflict (part) do update set last_beat_at = now(), run_id = excluded.run_id,
            detail = excluded.detail || jsonb_build_object(
                'failing_since', coalesce(nullif(heartbeats.detail->'failing_since', 'null'::jsonb),
                                          to_jsonb(%(since)s::timestamptz)),
                'last_ok_at', coalesce(heartbeats.detail->'last_ok_at', 'null'::jsonb))
        """,
        {
            "part": part,
            "run_id": run_id,
            "detail": jsonb({**detail, "ok": False, "unreachable": unreachable}),
            "since": attempt_started,
        },
    )


def no_answer(exc: BaseException) -> bool:
    """True when a failure is not hearing from the far side at all (refused, DNS, timeout), along the cause chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "unreachable", False) or isinstance(current, (OSError, TimeoutError)):
            return True
        current = current.__cause__ or current.__context__
    return False
