"""What the insider signals read from the normalized tables (psycopg, bound parameters only).

Every read is bounded by the run's new trades: the (wallet, market) pairs they touch, those pairs' own fills
around them, and per-candidate lookups through the trades indexes, so a run's cost follows new data, not history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from pm_assets.signals.incremental import TradeWindow
from pm_assets.signals.positions import Fill

END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
FILL_COLUMNS = sql.SQL(", ").join(
    sql.Identifier("t", c)
    for c in (
        "fill_key",
        "traded_at",
        "wallet",
        "condition_id",
        "token_id",
        "side",
        "price",
        "size",
        "outcome",
    )
)


@dataclass(frozen=True)
class Pair:
    wallet: str
    condition_id: str
    first_new: datetime
    last_new: datetime


@dataclass(frozen=True)
class WalletFacts:
    wallet: str
    first_activity_at: datetime | None
    labels: tuple[str, ...]


@dataclass(frozen=True)
class MarketFacts:
    condition_id: str
    liquidity: float | None
    volume_24h: float | None
    question: str | None
    end_date: datetime | None = None


def touched_pairs(conn: psycopg.Connection, window: TradeWindow) -> list[Pair]:
    where, params = window.trade_filter("t")
    rows = conn.execute(
        sql.SQL(
            "select t.wallet, t.condition_id, min(t.traded_at), max(t.traded_at) from trades t where {} "
            "group by t.wallet, t.condition_id"
        ).format(where),
        params,
    ).fetchall()
    return [Pair(*r) for r in rows]


def pair_fills(
    conn: psycopg.Connection, pairs: list[tuple[str, str, datetime, datetime]]
) -> dict[tuple[str, str], list[Fill]]:
    """Fills of each (wallet, condition_id) in [since, until], through the (wallet, traded_at) index."""
    if not pairs:
        return {}
    wallets, conds, lows, highs = (list(x) for x in zip(*pairs, strict=True))
    rows = conn.execute(
        sql.SQL(
            "select {} from unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
            " as p(wallet, condition_id, lo, hi)"
            " join trades t on t.wallet = p.wallet and t.traded_at >= p.lo and t.traded_at <= p.hi"
            "  and t.condition_id = p.condition_id"
        ).format(FILL_COLUMNS),
        (wallets, conds, lows, highs),
    ).fetchall()
    out: dict[tuple[str, str], list[Fill]] = {}
    for r in rows:
        fill = Fill(*r)
        out.setdefault((fill.wallet, fill.condition_id), []).append(fill)
    return out


def wallet_facts(conn: psycopg.Connection, wallets: list[str]) -> dict[str, WalletFacts]:
    """First activity (from the wallet's own history) and labels: ingestion's plus behaviour labels."""
    rows = conn.execute(
        """
        select u.wallet, w.first_activity_at,
               array(select distinct x from unnest(coalesce(w.labels, '{}') ||
                     coalesce((select array_agg(l.label) from wallet_behaviour_labels l where l.wallet = u.wallet),
                              '{}')) as x order by x)
          from unnest(%s::text[]) as u(wallet)
          left join wallets w on w.wallet = u.wallet
        """,
        (list(wallets),),
    ).fetchall()
    return {w: WalletFacts(w, first, tuple(labels)) for w, first, labels in rows}


def market_facts(conn: psycopg.Connection, condition_ids: list[str]) -> dict[str, MarketFacts]:
    rows = conn.execute(
        "select condition_id, liquidity, volume_24h, question, end_date from markets where condition_id = any(%s)",
        (list(condition_ids),),
    ).fetchall()
    return {r[0]: MarketFacts(*r) for r in rows}


def trailing_volume(conn: psycopg.Connection, condition_id: str, at: datetime, hours: float = 24.0) -> float:
    """USDC traded in the market in (at - hours, at], from the warehouse's own trades."""
    row = conn.execute(
        "select coalesce(sum(usdc_size), 0) from trades where condition_id = %s and traded_at > %s"
        " and traded_at <= %s",
        (condition_id, at - timedelta(hours=hours), at),
    ).fetchone()
    return float(row[0])


def fill_size_quantile(
    conn: psycopg.Connection, condition_id: str, at: datetime, q: float, days: float = 7.0
) -> tuple[float | None, int]:
    """The q-quantile of the market's fill sizes (USDC) in the `days` before `at`, and how many fills it is of."""
    row = conn.execute(
        "select percentile_cont(%s) within group (order by usdc_size), count(*) from trades"
        " where condition_id = %s and traded_at > %s and traded_at < %s",
        (q, condition_id, at - timedelta(days=days), at),
    ).fetchone()
    return (None if row[0] is None else float(row[0])), int(row[1])


def book_before(
    conn: psycopg.Connection, token_id: str, at: datetime, max_age: timedelta
) -> tuple[datetime, list, list] | None:
    """The latest order book snapshot of the token at or before `at` (and not older than max_age)."""
    row = conn.execute(
        "select captured_at, bids, asks from order_book_snapshots where token_id = %s and captured_at <= %s"
        " and captured_at >= %s order by captured_at desc limit 1",
        (token_id, at, at - max_age),
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def prior_trade_count(conn: psycopg.Connection, wallet: str, before: datetime, cap: int) -> int:
    """Trades of the wallet before `before`, counted up to `cap` (the rule only asks 'fewer than K?')."""
    row = conn.execute(
        "select count(*) from (select 1 from trades where wallet = %s and traded_at < %s limit %s) x",
        (wallet, before, cap),
    ).fetchone()
    return int(row[0])


def first_alerts(
    conn: psycopg.Connection, table: str, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], dict]:
    """The tier-0 alert rows already stored for these pairs: their evidence carries the position's extent."""
    if not pairs:
        return {}
    wallets, conds = (list(x) for x in zip(*pairs, strict=True))
    rows = conn.execute(
        sql.SQL(
            "select s.wallet, s.condition_id, s.evidence from {} s"
            " join unnest(%s::text[], %s::text[]) as p(wallet, condition_id)"
            "   on s.wallet = p.wallet and s.condition_id = p.condition_id where s.alert_tier = 0"
        ).format(sql.Identifier(table)),
        (wallets, conds),
    ).fetchall()
    return {(w, c): ev for w, c, ev in rows}


def waiting_pairs(conn: psycopg.Connection, table: str) -> list[Pair]:
    """Pairs held back because the wallet's first activity was unknown and is known now: re-evaluate them."""
    rows = conn.execute(
        sql.SQL(
            "select s.wallet, s.condition_id, min(s.traded_at), max(s.traded_at) from {} s"
            " join wallets w on w.wallet = s.wallet and w.first_activity_at is not null"
            " where s.suppressed_reason = 'wallet_age_unknown' group by s.wallet, s.condition_id"
        ).format(sql.Identifier(table))
    ).fetchall()
    return [Pair(*r) for r in rows]


def position_fills(
    conn: psycopg.Connection, table: str, pairs: list[Pair], window: timedelta
) -> tuple[dict[tuple[str, str], list[Fill]], dict[tuple[str, str], dict]]:
    """Each pair's fills from its stored first alert's window (or two windows before its new fills) on, and the
    stored first alerts: enough to rebuild the alert and its escalations deterministically."""
    firsts = first_alerts(conn, table, [(p.wallet, p.condition_id) for p in pairs])
    spans = []
    for p in pairs:
        lo = p.first_new - 2 * window
        stored = firsts.get((p.wallet, p.condition_id))
        if stored and stored.get("inputs", {}).get("window_started_at"):
            lo = min(lo, datetime.fromisoformat(stored["inputs"]["window_started_at"]))
        spans.append((p.wallet, p.condition_id, lo, END_OF_TIME))
    return pair_fills(conn, spans), firsts
