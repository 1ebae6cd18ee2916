"""The system's health as facts: heartbeats, coverage, gaps, latency; green, amber or red with the reason.

Dagster-free: `pm-intel status`, the dashboard's status page and the dead-man's switch all read it.
It never says green about what it cannot see: a part that never beat, a database it cannot reach, or a
ledger with nothing in it is red or amber, with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

RED, AMBER, GREEN = "red", "amber", "green"
_RANK = {GREEN: 0, AMBER: 1, RED: 2}


@dataclass(frozen=True)
class StatusThresholds:
    """When each fact turns amber or red. Each has an environment variable (see README)."""

    parts: tuple[str, ...] = ("stream_consumer", "trade_poll", "alert_delivery")
    heartbeat_stale_s: Mapping[str, float] = field(
        default_factory=lambda: {"stream_consumer": 30.0, "trade_poll": 120.0, "alert_delivery": 120.0}
    )
    default_stale_s: float = 120.0
    feed_silent_s: float = 900.0
    # A part whose every attempt has failed this long (its loop still beating) is red: it cannot do its job.
    failing_s: float = 120.0
    coverage_floor_pct: float = 99.0
    latency_p95_target_s: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StatusThresholds:
        env = os.environ if env is None else env
        base = cls()
        parts = tuple(
            p.strip() for p in env.get("PM_INTEL_STATUS_PARTS", ",".join(base.parts)).split(",") if p.strip()
        )
        stale = dict(base.heartbeat_stale_s)
        for part in parts:
            raw = env.get(f"PM_INTEL_HEARTBEAT_STALE_S_{part.upper()}")
            if raw:
                stale[part] = float(raw)
        return cls(
            parts=parts,
            heartbeat_stale_s=stale,
            default_stale_s=float(env.get("PM_INTEL_HEARTBEAT_STALE_S", base.default_stale_s)),
            feed_silent_s=float(env.get("PM_INTEL_FEED_SILENT_S", base.feed_silent_s)),
            failing_s=float(env.get("PM_INTEL_FAILING_S", base.failing_s)),
            coverage_floor_pct=float(env.get("PM_INTEL_COVERAGE_FLOOR_PCT", base.coverage_floor_pct)),
            latency_p95_target_s=float(env.get("PM_INTEL_LATENCY_P95_TARGET_S", base.latency_p95_target_s)),
        )

    def stale_after(self, part: str) -> float:
        return float(self.heartbeat_stale_s.get(part, self.default_stale_s))


@dataclass
class _Verdict:
    overall: str = GREEN
    reasons: list[str] = field(default_factory=list)

    def flag(self, level: str, reason: str) -> None:
        self.reasons.append(f"{level}: {reason}")
        if _RANK[level] > _RANK[self.overall]:
            self.overall = level


def unreachable_status(reason: str) -> dict[str, Any]:
    return {
        "overall": RED,
        "reasons": [f"red: {reason}"],
        "coverage": {},
        "latency_s": {"p50": None, "p95": None, "p99": None},
        "heartbeats": {},
        "open_gaps": None,
        "checked_at": datetime.now(UTC).isoformat(),
    }


def heartbeat_facts(conn: psycopg.Connection, now: datetime) -> dict[str, dict[str, Any]]:
    rows = conn.execute("select part, last_beat_at, detail from heartbeats").fetchall()
    return {
        part: {
            "last_beat": beat.isoformat(),
            "age_s": round((now - beat).total_seconds(), 1),
            "detail": detail,
        }
        for part, beat, detail in rows
    }


# What each part reaches upstream: the words of "cannot reach the … since …".
UPSTREAM_OF = {"trade_poll": "Data API", "stream_consumer": "CLOB websocket"}


@dataclass(frozen=True)
class Failing:
    part: str
    since: datetime
    error: str | None
    unreachable: bool


def failing_parts(
    beats: Mapping[str, dict[str, Any]], now: datetime, thresholds: StatusThresholds
) -> list[Failing]:
    """Parts whose loop beats but whose every attempt has failed for longer than `failing_s` (heartbeat detail
    `failing_since`, kept by the part from its first failed attempt since its last success)."""
    out = []
    for part in thresholds.parts:
        detail = (beats.get(part) or {}).get("detail") or {}
        since_text = detail.get("failing_since")
        if not since_text:
            continue
        since = datetime.fromisoformat(since_text)
        if (now - since).total_seconds() > thresholds.failing_s:
            out.append(Failing(part, since, detail.get("error"), bool(detail.get("unreachable"))))
    return out


def failing_reasons(failing: list[Failing], now: datetime) -> list[str]:
    """One "cannot reach the Data API / CLOB websocket since …" for the upstreams that never answered, and one
    line per part that got answers but failed anyway."""
    reasons = []
    order = list(UPSTREAM_OF)
    blind = sorted(
        (f for f in failing if f.unreachable),
        key=lambda f: order.index(f.part) if f.part in order else len(order),
    )
    if blind:
        since = min(f.since for f in blind)
        errors = "; ".join(f"{f.part}: {f.error}" for f in blind if f.error)
        reasons.append(
            f"cannot reach the {' / '.join(UPSTREAM_OF.get(f.part, f.part) for f in blind)} since "
            f"{since:%Y-%m-%d %H:%M:%S} UTC ({(now - since).total_seconds():.0f} s)"
            + (f" ({errors})" if errors else "")
        )
    for f in failing:
        if not f.unreachable:
            reasons.append(
                f"{f.part} failing since {f.since:%Y-%m-%d %H:%M:%S} UTC "
                f"({(now - f.since).total_seconds():.0f} s): {f.error or 'no detail'}"
            )
    return reasons


def running_since(conn: psycopg.Connection) -> datetime | None:
    """The earliest start any part recorded: how long the system has been there to see trades."""
    row = conn.execute("select min(started_at) from heartbeats").fetchone()
    return row[0] if row else None


def feed_silence(
    feed_age_s: float | None, markets_open: int, up_s: float | None, thresholds: StatusThresholds
) -> str | None:
    """The trade feed's silence in words, or None. Without any open market known (nothing crawled: the crawl
    may be as blind as the feed) the rule still holds once the system has been up longer than the threshold."""
    limit = thresholds.feed_silent_s
    if feed_age_s is not None and feed_age_s <= limit:
        return None
    if markets_open:
        if feed_age_s is None:
            return f"no trades ingested in the last 2 days while {markets_open} markets are open"
        return f"trade feed silent for {feed_age_s:.0f} s (threshold {limit:.0f} s) while {markets_open} markets are open"
    if up_s is None or up_s <= limit:
        return None
    age = up_s if feed_age_s is None else min(feed_age_s, up_s)
    return (
        f"trade feed silent for {age:.0f} s (threshold {limit:.0f} s) and no open market is known: "
        "nothing crawled, nothing traded"
    )


def coverage_today(conn: psycopg.Connection, now: datetime) -> dict[str, float]:
    rows = conn.execute(
        """
        select source,
               100.0 * count(*) filter (where state in ('covered', 'repaired')) / count(*)
        from coverage_ledger
        where minute >= date_trunc('day', %s::timestamptz) and minute < %s
        group by source order by source
        """,
        (now, now),
    ).fetchall()
    return {source: round(float(pct), 3) for source, pct in rows}


def open_gap_count(conn: psycopg.Connection) -> int:
    row = conn.execute(
        """
        select (select count(*) from trade_loss_events where repaired_at is null)
             + (select count(*) from reconciliation_mismatches where state = 'open')
        """
    ).fetchone()
    return int(row[0]) if row else 0


def latency_percentiles(conn: psycopg.Connection, now: datetime, hours: float) -> dict[str, float | None]:
    """Trade-to-alert latency: upstream event time to webhook delivery, over delivered alerts."""
    row = conn.execute(
        """
        select percentile_cont(array[0.5, 0.95, 0.99]) within group (
                   order by extract(epoch from delivered_at - upstream_at))
        from alert_deliveries
        where status = 'delivered' and upstream_at is not null and delivered_at >= %s - make_interval(secs => %s)
        """,
        (now, hours * 3600),
    ).fetchone()
    values = row[0] if row and row[0] else [None, None, None]
    return {
        k: (round(float(v), 3) if v is not None else None)
        for k, v in zip(("p50", "p95", "p99"), values, strict=True)
    }


def latency_by_signal(conn: psycopg.Connection, now: datetime, hours: float) -> dict[str, dict[str, float]]:
    rows = conn.execute(
        """
        select signal_table,
               percentile_cont(array[0.5, 0.95, 0.99]) within group (
                   order by extract(epoch from delivered_at - upstream_at)),
               count(*)
        from alert_deliveries
        where status = 'delivered' and upstream_at is not null and delivered_at >= %s - make_interval(secs => %s)
        group by signal_table
        """,
        (now, hours * 3600),
    ).fetchall()
    return {
        table: {"p50": round(p[0], 3), "p95": round(p[1], 3), "p99": round(p[2], 3), "alerts": n}
        for table, p, n in rows
    }


def newest_trade_age_s(conn: psycopg.Connection, now: datetime) -> float | None:
    row = conn.execute(
        "select max(ingested_at) from trades where ingested_at > %s - interval '2 days'", (now,)
    ).fetchone()
    return None if not row or row[0] is None else (now - row[0]).total_seconds()


def open_markets(conn: psycopg.Connection, now: datetime) -> int:
    row = conn.execute(
        "select count(*) from markets where closed is not true and (end_date is null or end_date > %s)",
        (now,),
    ).fetchone()
    return int(row[0]) if row else 0


def system_status(
    conn: psycopg.Connection, *, now: datetime | None = None, thresholds: StatusThresholds | None = None
) -> dict[str, Any]:
    """Every fact `pm-intel status --json` prints, and the verdict with its reasons."""
    now = now or datetime.now(UTC)
    thresholds = thresholds or StatusThresholds.from_env()
    verdict = _Verdict()

    beats = heartbeat_facts(conn, now)
    for part in thresholds.parts:
        fact = beats.get(part)
        limit = thresholds.stale_after(part)
        if fact is None:
            verdict.flag(RED, f"{part} has never written a heartbeat (is it running?)")
        elif fact["age_s"] > limit:
            verdict.flag(RED, f"{part} silent for {fact['age_s']:.0f} s (threshold {limit:.0f} s)")

    for reason in failing_reasons(failing_parts(beats, now, thresholds), now):
        verdict.flag(RED, reason)

    markets_open = open_markets(conn, now)
    feed_age = newest_trade_age_s(conn, now)
    since = running_since(conn)
    silence = feed_silence(
        feed_age, markets_open, None if since is None else (now - since).total_seconds(), thresholds
    )
    if silence:
        verdict.flag(RED, silence)

    coverage = coverage_today(conn, now)
    if not coverage:
        verdict.flag(AMBER, "the coverage ledger has nothing for today yet: coverage is unproven")
    for source, pct in coverage.items():
        if pct < thresholds.coverage_floor_pct:
            verdict.flag(
                AMBER,
                f"{source} coverage today {pct:.2f}% is under the floor {thresholds.coverage_floor_pct}%",
            )

    gaps = open_gap_count(conn)
    if gaps:
        verdict.flag(AMBER, f"{gaps} open gap(s) awaiting repair")

    latency = latency_percentiles(conn, now, hours=1)
    if latency["p95"] is not None and latency["p95"] > thresholds.latency_p95_target_s:
        verdict.flag(
            AMBER,
            f"trade-to-alert latency p95 {latency['p95']:.1f} s over the last hour "
            f"exceeds {thresholds.latency_p95_target_s:.0f} s",
        )

    return {
        "overall": verdict.overall,
        "reasons": verdict.reasons,
        "coverage": coverage,
        "latency_s": latency,
        "latency_by_signal_s": {
            "1h": latency_by_signal(conn, now, 1),
            "24h": latency_by_signal(conn, now, 24),
        },
        "latency_24h_s": latency_percentiles(conn, now, hours=24),
        "heartbeats": {part: {"last_beat": f["last_beat"], "age_s": f["age_s"]} for part, f in beats.items()},
        "open_gaps": gaps,
        "markets_open": markets_open,
        "newest_trade_age_s": None if feed_age is None else round(feed_age, 1),
        "checked_at": now.isoformat(),
    }
