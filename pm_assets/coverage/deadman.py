"""The dead-man's switch: a silent part (or a silent trade feed while markets are open) alerts once, and
its recovery alerts once. State lives in `deadman_state`, so restarts of the sensor never re-alert."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from pm_assets.coverage.status import StatusThresholds, newest_trade_age_s, open_markets

FEED_PART = "trade_feed"


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
) -> dict[str, str]:
    """Which parts are silent right now, each with the reason in words."""
    silent: dict[str, str] = {}
    for part in thresholds.parts:
        age = heartbeat_ages.get(part)
        limit = thresholds.stale_after(part)
        if age is None:
            silent[part] = f"{part} has never written a heartbeat"
        elif age > limit:
            silent[part] = f"{part} has been silent for {age:.0f} s (threshold {limit:.0f} s)"
    if markets_open and (feed_age_s is None or feed_age_s > thresholds.feed_silent_s):
        age_text = "no recent trades" if feed_age_s is None else f"no new trade for {feed_age_s:.0f} s"
        silent[FEED_PART] = f"trade feed silent: {age_text} while {markets_open} markets are open"
    return silent


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
    notify: Callable[[Transition], str | None],
) -> list[Transition]:
    """Read heartbeats and the feed, record edges in deadman_state/deadman_events, notify each edge once.

    `notify` returns an error text or None; a failed notification is recorded and not retried here (the
    state already moved, so the next outage still alerts once).
    """
    ages = {
        part: (now - beat).total_seconds()
        for part, beat in conn.execute("select part, last_beat_at from heartbeats").fetchall()
    }
    silent_now = silent_parts(ages, newest_trade_age_s(conn, now), open_markets(conn, now), thresholds)
    previous = dict(conn.execute("select part, state from deadman_state for update").fetchall())
    watched = [*thresholds.parts, FEED_PART]
    fired = transitions(previous, silent_now, now, watched)
    for edge in fired:
        new_state = "silent" if edge.kind == "silent" else "ok"
        conn.execute(
            "insert into deadman_state (part, state, since, updated_at) values (%s, %s, %s, %s) "
            "on conflict (part) do update set state = excluded.state, since = excluded.since, updated_at = excluded.updated_at",
            (edge.part, new_state, now, now),
        )
        error = notify(edge)
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
