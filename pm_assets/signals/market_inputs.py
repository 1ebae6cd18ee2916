"""Warehouse reads and writes of the market signals (arbitrage, spikes): plain psycopg, Dagster-free.

Kept apart from the pure evaluation modules so that the backtest and the assets load inputs the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pm_assets.signals import incremental, spikes
from pm_assets.signals.arbitrage import ArbitrageThresholds, ArbSet, Leg, Tick, Window, replay_windows
from pm_assets.signals.book_traps import MarketState, market_state_from_row, negrisk_set_reason
from pm_assets.storage.bulk import copy_upsert

SNAPSHOT_HORIZON = timedelta(days=7)

_MARKETS = """
select m.condition_id, m.event_id, m.neg_risk, m.neg_risk_other, m.group_item_title, m.accepting_orders,
       m.closed, m.end_date, m.fee_schedule, m.fees_enabled, r.status as resolution_status,
       coalesce(r.was_disputed, false) as was_disputed, coalesce(r.was_arbitrated, false) as was_arbitrated,
       coalesce(r.extended_review, false) as extended_review, coalesce(e.neg_risk_augmented, false) as augmented,
       coalesce(e.neg_risk, false) as event_neg_risk, coalesce(m.closed_time, r.resolved_at) as closed_at
from markets m
left join market_resolutions r on r.condition_id = m.condition_id
left join events e on e.event_id = m.event_id
"""


def load_markets(conn: psycopg.Connection) -> tuple[dict[str, MarketState], dict[str, dict[str, Any]]]:
    """(gating state by condition id, raw rows by condition id)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_MARKETS).fetchall()
    return {r["condition_id"]: market_state_from_row(r) for r in rows}, {r["condition_id"]: r for r in rows}


def load_arb_sets(conn: psycopg.Connection, rows: dict[str, dict[str, Any]]) -> list[ArbSet]:
    """Every binary market's YES/NO pair and every negRisk event's set of YES tokens."""
    tokens: dict[str, list[tuple[int, str, bool | None]]] = {}
    for cid, idx, tid, has_book in conn.execute(
        "select condition_id, outcome_index, token_id, has_book from tokens order by condition_id, outcome_index"
    ):
        tokens.setdefault(cid, []).append((idx, tid, has_book))
    sets: list[ArbSet] = []
    events: dict[str, list[dict[str, Any]]] = {}
    for cid, row in rows.items():
        toks = tokens.get(cid, [])
        if len(toks) == 2:
            legs = tuple(Leg(t[1], cid, row["fee_schedule"], row["fees_enabled"]) for t in toks)
            sets.append(ArbSet(cid, "binary", legs, condition_id=cid, event_id=row["event_id"]))
        if row["event_id"] and (row["neg_risk"] or row["event_neg_risk"]):
            events.setdefault(row["event_id"], []).append(row)
    for event_id, members in sorted(events.items()):
        members.sort(key=lambda r: r["condition_id"])
        legs, states, known = [], [], {}
        for r in members:
            yes = next((t for t in tokens.get(r["condition_id"], []) if t[0] == 0), None)
            states.append(market_state_from_row(r))
            known[r["condition_id"]] = yes is not None and yes[2] is not False
            if yes is not None:
                legs.append(Leg(yes[1], r["condition_id"], r["fee_schedule"], r["fees_enabled"]))
        reason = negrisk_set_reason(any(r["augmented"] for r in members), states, known)
        sets.append(ArbSet(event_id, "negrisk", tuple(legs), event_id=event_id, incomplete_reason=reason))
    return sets


def latest_tick_time(conn: psycopg.Connection) -> datetime | None:
    return conn.execute(
        """select greatest((select max(server_ts) from ws_book_snapshots), (select max(server_ts) from ws_price_changes),
                           (select max(captured_at) from order_book_snapshots))"""
    ).fetchone()[0]


def earliest_tick_time(conn: psycopg.Connection) -> datetime:
    return conn.execute(
        """select least((select min(server_ts) from ws_book_snapshots), (select min(server_ts) from ws_price_changes),
                        (select min(captured_at) from order_book_snapshots))"""
    ).fetchone()[0]


def active_tokens(conn: psycopg.Connection, start: datetime, end: datetime) -> set[str]:
    rows = conn.execute(
        """select token_id from ws_book_snapshots where server_ts >= %(s)s and server_ts <= %(e)s
           union select token_id from ws_price_changes where server_ts >= %(s)s and server_ts <= %(e)s
           union select token_id from order_book_snapshots where captured_at >= %(s)s and captured_at <= %(e)s""",
        {"s": start, "e": end},
    ).fetchall()
    return {r[0] for r in rows}


def replay_start(conn: psycopg.Connection, tokens: Sequence[str], start: datetime) -> datetime:
    """The earliest last-snapshot-before-start among `tokens`: replaying from there rebuilds every book."""
    row = conn.execute(
        """select min(ts) from (
             select token_id, max(server_ts) as ts from ws_book_snapshots
              where token_id = any(%(t)s) and server_ts < %(s)s and server_ts >= %(h)s group by token_id
             union all
             select token_id, max(captured_at) from order_book_snapshots
              where token_id = any(%(t)s) and captured_at < %(s)s and captured_at >= %(h)s group by token_id) x""",
        {"t": list(tokens), "s": start, "h": start - SNAPSHOT_HORIZON},
    ).fetchone()
    return min(row[0], start) if row[0] else start


def _levels(raw: Any) -> tuple:
    """Ladder levels from either stored shape: the stream's `{"price","size"}` objects or the REST
    snapshots' compact `[price, size]` pairs."""
    return tuple(
        {"price": x[0], "size": x[1]}
        if isinstance(x, list | tuple)
        else {"price": x["price"], "size": x["size"]}
        for x in raw or ()
    )


def load_ticks(conn: psycopg.Connection, tokens: Sequence[str], start: datetime, end: datetime) -> list[Tick]:
    """Books, level changes and trade prices of `tokens` in [start, end], in replay order."""
    params = {"t": list(tokens), "s": start, "e": end}
    ticks: list[tuple[datetime, int, Tick]] = []
    for at, tid, bids, asks, ltp in conn.execute(
        """select server_ts, token_id, bids, asks, last_trade_price from ws_book_snapshots
           where token_id = any(%(t)s) and server_ts >= %(s)s and server_ts <= %(e)s""",
        params,
    ):
        if ltp is not None:
            ticks.append((at, 0, Tick(at, tid, "trade", price=float(ltp))))
        ticks.append((at, 1, Tick(at, tid, "book", bids=_levels(bids), asks=_levels(asks))))
    for at, tid, bids, asks in conn.execute(
        """select captured_at, token_id, bids, asks from order_book_snapshots
           where token_id = any(%(t)s) and captured_at >= %(s)s and captured_at <= %(e)s""",
        params,
    ):
        ticks.append((at, 1, Tick(at, tid, "book", bids=_levels(bids), asks=_levels(asks))))
    for at, tid, side, price, size in conn.execute(
        """select server_ts, token_id, side, price, size from ws_price_changes
           where token_id = any(%(t)s) and server_ts >= %(s)s and server_ts <= %(e)s""",
        params,
    ):
        ticks.append((at, 2, Tick(at, tid, "change", side=side, price=float(price), size=float(size))))
    for at, tid, price in conn.execute(
        """select server_ts, token_id, price from ws_last_trades
           where token_id = any(%(t)s) and server_ts >= %(s)s and server_ts <= %(e)s
           union all select traded_at, token_id, price from trades
           where token_id = any(%(t)s) and traded_at >= %(s)s and traded_at <= %(e)s""",
        params,
    ):
        ticks.append((at, 0, Tick(at, tid, "trade", price=float(price))))
    ticks.sort(key=lambda x: (x[0], x[1], x[2].token_id))
    return [t for _, _, t in ticks]


def window_replay_start(conn: psycopg.Connection, start: datetime) -> datetime:
    """Move `start` back until no stored window spans it, so a replay re-derives each window whole."""
    while True:
        row = conn.execute(
            """select min(opened_at) from arbitrage_windows
               where opened_at < %(s)s and (closed_at is null or closed_at >= %(s)s)""",
            {"s": start},
        ).fetchone()
        if row[0] is None:
            return start
        start = row[0]


def write_windows(
    conn: psycopg.Connection,
    rows: list[tuple],
    columns: Sequence[str],
    start: datetime,
    thresholds: dict[str, Any] | None = None,
) -> dict:
    """Upsert the replayed windows; windows stored from `start` on that the replay no longer finds go away,
    except alerts evaluated under other thresholds than `thresholds` (they may have been delivered)."""
    same = Jsonb(thresholds or {})
    kept = incremental.alerts_under_other_thresholds(
        conn, "arbitrage_windows", [r[0] for r in rows], thresholds or {}
    )
    rows = [r for r in rows if r[0] not in kept]
    keys = [r[0] for r in rows]
    removed = conn.execute(
        sql.SQL(
            "delete from arbitrage_windows where opened_at >= %s and not (signal_key = any(%s)) and {}"
        ).format(incremental.replaceable()),
        (start, keys, same),
    ).rowcount
    staged = [(*r[:-1], Jsonb(r[-1])) for r in rows]
    result = copy_upsert(
        conn,
        "arbitrage_windows",
        columns,
        staged,
        key=["signal_key"],
        update=[c for c in columns if c != "signal_key"],
    )
    return {"inserted": result.inserted, "updated": result.updated, "removed": removed}


# --- price spikes' inputs -------------------------------------------------------------------------------------------


def latest_price_time(conn) -> datetime | None:
    return conn.execute(
        """select greatest((select max(traded_at) from trades), (select max(server_ts) from ws_last_trades),
                           (select max(ts) from price_points))"""
    ).fetchone()[0]


def earliest_price_time(conn) -> datetime | None:
    return conn.execute(
        """select least((select min(traded_at) from trades), (select min(server_ts) from ws_last_trades),
                        (select min(ts) from price_points))"""
    ).fetchone()[0]


def load_prices(conn, start: datetime, end: datetime) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    """(condition id, YES token id) -> time-ordered YES prices from trades, ws last trades and price history.

    A binary market's NO price p counts as a YES price 1 − p: one series per market, so a move fires once,
    not once per outcome. Tokens of markets with more outcomes keep their own series.
    """
    series: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
    rows = conn.execute(
        """with px as (
             select token_id, traded_at as at, price from trades where traded_at >= %(s)s and traded_at <= %(e)s
             union all
             select token_id, server_ts, price from ws_last_trades where server_ts >= %(s)s and server_ts <= %(e)s
             union all
             select token_id, ts, price from price_points where ts >= %(s)s and ts <= %(e)s
           ), pairs as (
             select condition_id, array_agg(token_id order by outcome_index) as toks from tokens group by condition_id
           )
           select k.condition_id, k.token_id, k.outcome_index, cardinality(p.toks), p.toks[1], px.at, px.price
             from px join tokens k using (token_id) join pairs p using (condition_id)""",
        {"s": start, "e": end},
    )
    for cid, tid, idx, n, yes, at, price in rows:
        if n == 2:
            series.setdefault((cid, yes), []).append((at, float(price) if idx == 0 else 1.0 - float(price)))
        else:
            series.setdefault((cid, tid), []).append((at, float(price)))
    for points in series.values():
        points.sort()
    return series


def load_fills(conn, start: datetime, end: datetime) -> tuple[dict[str, list], dict[str, datetime]]:
    """condition id -> fills (at, token, price, usdc) in [start, end], and each market's first trade time."""
    fills: dict[str, list] = {}
    for cid, at, tid, price, usdc in conn.execute(
        """select condition_id, traded_at, token_id, price, usdc_size from trades
           where traded_at >= %s and traded_at <= %s and condition_id is not null""",
        (start, end),
    ):
        fills.setdefault(cid, []).append((at, tid, float(price), float(usdc)))
    first = (
        dict(
            conn.execute(
                "select condition_id, min(traded_at) from trades where condition_id = any(%s) group by condition_id",
                (list(fills),),
            ).fetchall()
        )
        if fills
        else {}
    )
    return fills, first


# --- the replays the runs and the backtest share -----------------------------------------------------------------


def replay_arbitrage(
    conn: psycopg.Connection, th: ArbitrageThresholds, start: datetime, end: datetime
) -> tuple[list[Window], int]:
    """(every window the stored ticks show from `start` to `end`, each book rebuilt from its last snapshot
    before `start`; how many sets had ticks)."""
    states, rows = load_markets(conn)
    active = active_tokens(conn, start, end)
    sets = [s for s in load_arb_sets(conn, rows) if any(leg.token_id in active for leg in s.legs)]
    tokens = sorted({leg.token_id for s in sets for leg in s.legs})
    if not tokens:
        return [], len(sets)
    ticks = load_ticks(conn, tokens, replay_start(conn, tokens, start), end)
    return replay_windows(sets, ticks, states, th, evaluate_from=start, now=end), len(sets)


def replay_spikes(
    conn: psycopg.Connection,
    th: spikes.SpikeThresholds,
    start: datetime,
    end: datetime,
    quiet: dict[str, datetime] | None = None,
) -> list[spikes.Spike]:
    """Every spike from `start` to `end`, with the trailing prices and fills its baselines need loaded before."""
    states, _ = load_markets(conn)
    window = timedelta(minutes=th.window_minutes)
    prices = load_prices(conn, start - window - timedelta(hours=th.vol_hours), end)  # the usual-move baseline
    fills, first = load_fills(conn, start - timedelta(hours=th.baseline_hours) - window, end)
    return spikes.detect_spikes(prices, fills, first, states, th, evaluate_from=start, quiet=quiet)
