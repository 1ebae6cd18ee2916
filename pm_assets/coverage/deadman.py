"""The dead-man's switch: a silent part (or a silent trade feed while markets are open) alerts once, and
its recovery alerts once. State lives in `deadman_state`, so restarts of the sensor never re-alert."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from pm_assets.coverage.status import (
    Failing,
    StatusThresholds,
    failing_parts,
    feed_silence,
    newest_trade_age_s,
    open_markets,
    running_since,
)

FEED_PART = "trade_feed"
WEBHOOK_PART = "alert_webhooks"


@dataclass(frozen=True)
class Transition:
    part: str
    kind: str  # "silent" or "recovered"
    at: datetime
    text: str


def silent_parts(
    heartbeat_ages: Mapping[str, float | None],
    feed_age_s: float | None,
    markets_open: int,
    thresholds: StatusThresholds,
    deliveries_failing_s: float | None = None,
    up_s: float | None = None,
    failing: Sequence[Failing] = (),
) -> dict[str, str]:
    """Which parts are silent right now, each with the reason in words. A part whose loop beats but whose every
    attempt has failed for `failing_s` is silent too: it is not doing its job."""
    silent: dict[str, str] = {}
    for part in thresholds.parts:
        age = heartbeat_ages.get(part)
        limit = thresholds.stale_after(part)
        if age is None:
            silent[part] = f"{part} has never written a heartbeat"
        elif age > limit:
            silent[part] = f"{part} has been silent for {age:.0f} s (threshold {limit:.0f} s)"
    for f in failing:
        if f.part not in silent:
            what = "cannot reach its upstream" if f.unreachable else "failing"
            silent[f.part] = (
                f"{f.part} {what} since {f.since:%Y-%m-%d %H:%M:%S} UTC: {f.error or 'no detail'}"
            )
    silence = feed_silence(feed_age_s, markets_open, up_s, thresholds)
    if silence:
        silent[FEED_PART] = silence
    if deliveries_failing_s is not None and deliveries_failing_s > thresholds.default_stale_s:
        silent[WEBHOOK_PART] = (
            f"alert webhooks failing for {deliveries_failing_s:.0f} s: alerts are not arriving"
        )
    return silent


def deliveries_failing_s(conn: psycopg.Connection, now: datetime) -> float | None:
    """How long alert deliveries have been failing with no success since, or None when they are not."""
    row = conn.execute(
        """
        select min(d.first_attempt_at) from alert_deliveries d
        where d.status in ('pending', 'failed') and d.attempts > 0 and d.first_attempt_at > %s - interval '1 day'
          and not exists (select 1 from alert_deliveries ok where ok.status = 'delivered'
                          and ok.delivered_at > d.first_attempt_at)
        """,
        (now,),
    ).fetchone()
    return None if not row or row[0] is None else (now - row[0]).total_seconds()


def transitions(
    previous: Mapping[str, str], silent_now: Mapping[str, str], now: datetime, watched: list[str]
) -> list[Transition]:
    """Edges only: ok -> silent fires once, silent -> ok fires once, steady states fire nothing."""
    out = []
    for part in watched:
        was_silent = previous.get(part) == "silent"
        if part in silent_now and not was_silent:
            out.append(Transition(part, "silent", now, f"pm-intel: {silent_now[part]}"))
        elif part not in silent_now and was_silent:
            out.append(Transition(part, "recovered", now, f"pm-intel: {part} recovered"))
    return out


def evaluate(
    conn: psycopg.Connection,
    now: datetime,
    thresholds: StatusThresholds,
    notify: Callable[[Transition, psycopg.Connection], str | None],
) -> list[Transition]:
    """Read heartbeats, the feed and deliveries; record edges in deadman_state/deadman_events; notify each once.

    `notify` returns an error text or None. A notification that failed (the webhook may be the very thing that
    is down) is retried on later evaluations for a day, so each edge reaches the user once it can.
    """
    rows = conn.execute("select part, last_beat_at, detail from heartbeats").fetchall()
    ages = {part: (now - beat).total_seconds() for part, beat, _ in rows}
    since = running_since(conn)
    silent_now = silent_parts(
        ages,
        newest_trade_age_s(conn, now),
        open_markets(conn, now),
        thresholds,
        deliveries_failing_s(conn, now),
        up_s=None if since is None else (now - since).total_seconds(),
        failing=failing_parts({part: {"detail": detail} for part, _, detail in rows}, now, thresholds),
    )
    previous = dict(conn.execute("select part, state from deadman_state for update").fetchall())
    watched = [*thresholds.parts, FEED_PART, WEBHOOK_PART]
    _retry_unnotified(conn, now, notify)
    fired = transitions(previous, silent_now, now, watched)
    for edge in fired:
        new_state = "silent" if edge.kind == "silent" else "ok"
        conn.execute(
            "insert into deadman_state (part, state, since, updated_at) values (%s, %s, %s, %s) "
            "on conflict (part) do update set state = excluded.state, since = excluded.since, updated_at = excluded.updated_at",
            (edge.part, new_state, now, now),
        )
        error = notify(edge, conn)
        conn.execute(
            "insert into deadman_events (part, kind, at, detail, notified, notify_error) values (%s, %s, %s, %s, %s, %s)",
            (edge.part, edge.kind, now, Jsonb({"text": edge.text}), error is None, error),
        )
    for part in watched:
        if part not in previous and part not in silent_now:
            conn.execute(
                "insert into deadman_state (part, state, since) values (%s, 'ok', %s) on conflict do nothing",
                (part, now),
            )
    return fired


def _retry_unnotified(
    conn: psycopg.Connection, now: datetime, notify: Callable[[Transition, psycopg.Connection], str | None]
) -> None:
    pending = conn.execute(
        "select id, part, kind, at, detail->>'text' from deadman_events where not notified "
        "and at > %s - interval '1 day' order by id",
        (now,),
    ).fetchall()
    for event_id, part, kind, at, text in pending:
        error = notify(Transition(part, kind, at, text), conn)
        conn.execute(
            "update deadman_events set notified = %s, notify_error = %s where id = %s",
            (error is None, error, event_id),
        )
        if error is not None:
            break  # the destination is still down: try again next evaluation, in order
