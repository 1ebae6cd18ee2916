"""How an insider-signal run goes: validate thresholds, pick the window, evaluate positions, upsert, advance.

Shared by fresh_wallet_trades and size_anomalies (both are per wallet-and-market positions). Rows are keyed by
(signal, wallet, market, tier), so a re-run, an overlapping window or a backfill rescan upserts in place; rows of an
evaluated pair that the evaluation no longer produces (thresholds changed, age became known) are removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pm_assets.signals import incremental, insider_inputs
from pm_assets.signals.insider_inputs import Pair, WalletFacts
from pm_assets.signals.launchpad import is_what_if, run_thresholds, write_what_if
from pm_assets.storage.bulk import copy_upsert

RESCAN_FIELDS = ("rescan_from", "rescan_to")
WHAT_IF_DEFAULT_SPAN = timedelta(hours=24)

__all__ = [
    "is_what_if",
    "kept_alerts",
    "run_position_signal",
    "run_thresholds",
    "trade_window",
    "write_what_if",
]


def _at(value: str, label: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise dg.Failure(description=f"{label} must be an ISO date or datetime, got {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def trade_window(
    conn: psycopg.Connection, table: str, config: dg.Config, overlap: timedelta | None = None
) -> incremental.TradeWindow:
    """The run's trades. Takes the table's transaction lock first: a run a user launches (a rescan, a backfill)
    may evaluate the same table while the live pass does, and each must read the watermark the other committed.

    `overlap` (default incremental.DEFAULT_OVERLAP): how far before the watermark to re-read for late commits. The
    live pass, running every few seconds, re-reads a few seconds."""
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"pm_intel:signal:{table}",))
    if is_what_if(config) and not getattr(config, "rescan_from", ""):
        # A what-if run re-reads the last day by traded_at (it must not use or move the live watermark).
        end = datetime.now(UTC)
        return incremental.rescan_window(table, end - WHAT_IF_DEFAULT_SPAN, end)
    if getattr(config, "rescan_from", ""):
        start = _at(config.rescan_from, "rescan_from")
        end = _at(config.rescan_to, "rescan_to") if config.rescan_to else datetime.now(UTC)
        try:
            return incremental.rescan_window(table, start, end)
        except ValueError as exc:
            raise dg.Failure(description=str(exc)) from exc
    return incremental.incremental_window(conn, table, overlap=overlap or incremental.DEFAULT_OVERLAP)


def kept_alerts(conn: psycopg.Connection, table: str, keys: list[str], t: dict) -> set[str]:
    """Keys of stored alert rows (alerted, perhaps delivered) evaluated under other thresholds than `t`: no
    evaluation under other thresholds rewrites or deletes them."""
    return incremental.alerts_under_other_thresholds(conn, table, keys, t)


def write_signal_rows(conn: psycopg.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    data = [[Jsonb(r[c]) if c == "evidence" else r[c] for c in columns] for r in rows]
    update = [c for c in columns if c not in ("signal_key",)]
    copy_upsert(conn, table, columns, data, key=["signal_key"], update=update)
    conn.execute(
        sql.SQL("update {} set updated_at = now() where signal_key = any(%s)").format(sql.Identifier(table)),
        ([r["signal_key"] for r in rows],),
    )


def remove_stale(conn: psycopg.Connection, table: str, pairs: list[Pair], keep: set[str], t: dict) -> int:
    if not pairs:
        return 0
    cur = conn.execute(
        sql.SQL(
            "delete from {} s using unnest(%s::text[], %s::text[]) as p(wallet, condition_id)"
            " where s.wallet = p.wallet and s.condition_id = p.condition_id and not (s.signal_key = any(%s))"
            " and {}"
        ).format(sql.Identifier(table), incremental.replaceable("s")),
        ([p.wallet for p in pairs], [p.condition_id for p in pairs], list(keep), Jsonb(t)),
    )
    return cur.rowcount


def merged_pairs(pairs: list[Pair]) -> list[Pair]:
    by_key: dict[tuple[str, str], Pair] = {}
    for p in pairs:
        seen = by_key.get((p.wallet, p.condition_id))
        by_key[(p.wallet, p.condition_id)] = (
            p
            if seen is None
            else Pair(
                p.wallet, p.condition_id, min(p.first_new, seen.first_new), max(p.last_new, seen.last_new)
            )
        )
    return list(by_key.values())


def run_position_signal(
    log,
    warehouse,
    table: str,
    signal_type: str,
    config: dg.Config,
    *,
    build_rows: Callable[..., list[dict]],
    candidate: Callable[[Pair, WalletFacts, dict], bool] = lambda p, w, t: True,
    overlap: timedelta | None = None,
) -> dg.MaterializeResult:
    from pm_assets.signals.specs import TUNABLE_BY_TYPE

    what_if = is_what_if(config)
    with warehouse.connect() as conn:
        t = run_thresholds(conn, TUNABLE_BY_TYPE[signal_type], config, log)
        window_len = timedelta(minutes=t["accumulation_window_minutes"])
        window = trade_window(conn, table, config, overlap)
        count, first, last = incremental.new_trade_span(conn, window)
        pairs = merged_pairs(
            insider_inputs.touched_pairs(conn, window) + insider_inputs.waiting_pairs(conn, table)
        )
        wallets = insider_inputs.wallet_facts(conn, sorted({p.wallet for p in pairs}))
        stored = insider_inputs.first_alerts(conn, table, [(p.wallet, p.condition_id) for p in pairs])
        pairs = [
            p
            for p in pairs
            if (p.wallet, p.condition_id) in stored
            or candidate(p, wallets.get(p.wallet) or WalletFacts(p.wallet, None, ()), t)
        ]
        fills, _ = insider_inputs.position_fills(conn, table, pairs, window_len)
        markets = insider_inputs.market_facts(conn, sorted({p.condition_id for p in pairs}))
        rows = build_rows(conn, t, fills, wallets, markets)
        if what_if:
            what_if_id, _ = write_what_if(conn, signal_type, t, rows)
            removed, kept = 0, set()
        else:
            what_if_id = None
            kept = kept_alerts(conn, table, [r["signal_key"] for r in rows], t)
            removed = remove_stale(conn, table, pairs, {r["signal_key"] for r in rows}, t)
            write_signal_rows(conn, table, [r for r in rows if r["signal_key"] not in kept])
            incremental.advance_watermark(conn, window, detail={"new_trades": count, "rows": len(rows)})
    reasons = Counter(r["suppressed_reason"] or "alert" for r in rows)
    log.info(
        f"{table}: {count} new trades, {len(pairs)} candidate positions, {len(rows)} rows {dict(reasons)}"
    )
    return dg.MaterializeResult(
        metadata={
            "new_trades": count,
            "window": "rescan" if window.is_rescan else "incremental",
            "first_traded_at": str(first),
            "last_traded_at": str(last),
            "candidate_positions": len(pairs),
            "rows_written": len(rows),
            "rows_removed": removed,
            "alerts_kept_under_earlier_thresholds": len(kept),
            **({"what_if_id": what_if_id, "what_if_table": "signal_what_if"} if what_if_id else {}),
            "alerts": reasons.get("alert", 0),
            "suppressed": {k: v for k, v in reasons.items() if k != "alert"},
            "thresholds": t,  # the values in force (saved override, environment or default), shown in the UI
        }
    )
