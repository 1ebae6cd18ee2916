"""Scores the insider signal tables against pm_sim's ground truth (precision, recall, alerts per event, noise).

Alerts are the rows with suppressed_reason null. An alert is a true positive when it belongs to a planted true
event: same wallet (one of the event's wallets) and same market; for clusters, same market and at least two of the
event's wallets. Recall counts the target events (by kind, per table) that got at least one alert; alerts per
event divides the alerts matched to target events by the detected target events. Noise passed counts planted
noise records (settlement sweeps, market-maker wallets) that an alert matched. Alerts per 1,000 background
trades: the alerts that match no planted true event (what the table sends on unplanted flow), per 1,000 trades
that no planted record put there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import psycopg

TRUE_WALLET_KINDS = ("fresh_wallet_insider", "coordinated_entry", "split_buy")
TARGETS: Mapping[str, tuple[str, ...]] = {
    "fresh_wallet_trades": ("fresh_wallet_insider",),
    "size_anomalies": ("fresh_wallet_insider", "split_buy"),
    "wallet_clusters": ("coordinated_entry",),
}
NOISE_KINDS = ("settlement_sweep", "market_maker")


def _alerts(conn: psycopg.Connection, table: str) -> list[tuple]:
    if table == "wallet_clusters":
        return conn.execute(
            "select signal_key, condition_id, wallets, started_at from wallet_clusters where suppressed_reason is null"
        ).fetchall()
    return conn.execute(
        f"select signal_key, condition_id, array[wallet], traded_at from {table}"  # noqa: S608 (fixed names)
        " where suppressed_reason is null"
    ).fetchall()


def _matches(record: Mapping, condition_id: str, wallets: Sequence[str], cluster: bool) -> bool:
    if record.get("condition_id") != condition_id:
        return False
    shared = set(record.get("wallets") or []) & set(wallets)
    return len(shared) >= (2 if cluster else 1)


def planted_tx_hashes(truth: Sequence[Mapping]) -> list[str]:
    """Every transaction a planted record put into the flow (its fills and its wallets' first activity)."""
    out = set()
    for r in truth:
        out.update(r.get("tx_hashes") or [])
        if r.get("first_activity_tx"):
            out.add(r["first_activity_tx"])
    return sorted(out)


def background_trades(conn: psycopg.Connection, truth: Sequence[Mapping]) -> int:
    row = conn.execute(
        "select count(*) from trades where not (transaction_hash = any(%s))", (planted_tx_hashes(truth),)
    ).fetchone()
    return int(row[0])


def per_1k(alerts: int, trades: int) -> float | None:
    return round(1000.0 * alerts / trades, 4) if trades else None


def score_table(
    conn: psycopg.Connection, table: str, truth: Sequence[Mapping], background: int | None = None
) -> dict:
    cluster = table == "wallet_clusters"
    alerts = _alerts(conn, table)
    true_events = [r for r in truth if r["true_event"] and r["kind"] in TRUE_WALLET_KINDS]
    targets = [r for r in truth if r["kind"] in TARGETS[table]]
    noise = [r for r in truth if r["kind"] in NOISE_KINDS]
    tp = sum(1 for _, cid, ws, _ in alerts if any(_matches(r, cid, ws, cluster) for r in true_events))
    per_target = [sum(1 for _, cid, ws, _ in alerts if _matches(r, cid, ws, cluster)) for r in targets]
    detected = sum(1 for n in per_target if n)
    noise_passed = 0
    for r in noise:
        if r["kind"] == "market_maker":
            hit = any(set(r["wallets"]) & set(ws) for _, _, ws, _ in alerts)
        else:
            hit = any(_matches(r, cid, ws, False) for _, cid, ws, _ in alerts)
        noise_passed += int(hit)
    return {
        "precision": round(tp / len(alerts), 4) if alerts else None,
        "recall": round(detected / len(targets), 4) if targets else None,
        "alerts_per_event": round(sum(per_target) / detected, 4) if detected else None,
        "noise_passed": noise_passed,
        "alerts": len(alerts),
        "alerts_per_1k_background_trades": per_1k(len(alerts) - tp, background or 0),
        "background_alerts": len(alerts) - tp,
        "background_trades": background,
        "true_positives": tp,
        "target_events": len(targets),
        "detected_events": detected,
        "target_kinds": list(TARGETS[table]),
        "recall_by_kind": {
            kind: round(
                sum(1 for r, n in zip(targets, per_target, strict=True) if r["kind"] == kind and n)
                / max(1, sum(1 for r in targets if r["kind"] == kind)),
                4,
            )
            for kind in TARGETS[table]
        },
    }


def background_alerts(conn: psycopg.Connection, table: str, truth: Sequence[Mapping]) -> list[dict]:
    """A table's alerts that match no planted true event (what it sends on unplanted flow), with their evidence:
    what `bench signals --dump-fp FILE` writes, to see what tells them from the planted events."""
    cluster = table == "wallet_clusters"
    true_events = [r for r in truth if r["true_event"] and r["kind"] in TRUE_WALLET_KINDS]
    evidence = dict(
        conn.execute(
            f"select signal_key, evidence from {table} where suppressed_reason is null"  # noqa: S608 (fixed names)
        ).fetchall()
    )
    return [
        {
            "table": table,
            "signal_key": key,
            "condition_id": cid,
            "wallets": list(ws),
            "at": at.isoformat(),
            "evidence": evidence.get(key),
        }
        for key, cid, ws, at in _alerts(conn, table)
        if not any(_matches(r, cid, ws, cluster) for r in true_events)
    ]


def score_insider_signals(conn: psycopg.Connection, truth: Sequence[Mapping]) -> dict:
    background = background_trades(conn, truth)
    return {table: score_table(conn, table, truth, background) for table in TARGETS}


def detection_latencies(
    conn: psycopg.Connection,
    truth: Sequence[Mapping],
    visible_at: Mapping[int, float],
) -> list[float]:
    """Seconds from the moment a planted event's trade became visible upstream (wall clock, from the bench's
    clock steps: visible_at[start_ts]) to its first alert row's detected_at."""
    out = []
    for r in truth:
        if not r["true_event"] or r["kind"] not in TRUE_WALLET_KINDS or r["start_ts"] not in visible_at:
            continue
        row = conn.execute(
            "select min(extract(epoch from detected_at)) from ("
            " select detected_at from fresh_wallet_trades where condition_id = %(c)s and wallet = any(%(w)s)"
            "  and suppressed_reason is null"
            " union all select detected_at from size_anomalies where condition_id = %(c)s and wallet = any(%(w)s)"
            "  and suppressed_reason is null"
            " union all select detected_at from wallet_clusters where condition_id = %(c)s and wallets && %(w)s"
            "  and suppressed_reason is null) x",
            {"c": r["condition_id"], "w": r["wallets"]},
        ).fetchone()
        if row[0] is not None:
            out.append(max(0.0, float(row[0]) - visible_at[r["start_ts"]]))
    return out


def ingest_to_signal(conn: psycopg.Connection, truth: Sequence[Mapping]) -> list[float]:
    """Seconds from a planted event's last fill landing in trades (ingested_at) to its first alert row."""
    out = []
    for r in truth:
        if not r["true_event"] or r["kind"] not in TRUE_WALLET_KINDS or not r.get("tx_hashes"):
            continue
        row = conn.execute(
            "with landed as (select max(ingested_at) at from trades where transaction_hash = any(%(tx)s)"
            "   and wallet = any(%(w)s)),"
            " fired as (select min(detected_at) at from ("
            "  select detected_at from fresh_wallet_trades where condition_id = %(c)s and wallet = any(%(w)s)"
            "   and suppressed_reason is null"
            "  union all select detected_at from size_anomalies where condition_id = %(c)s and wallet = any(%(w)s)"
            "   and suppressed_reason is null"
            "  union all select detected_at from wallet_clusters where condition_id = %(c)s and wallets && %(w)s"
            "   and suppressed_reason is null) x)"
            " select extract(epoch from fired.at - landed.at) from landed, fired",
            {"tx": r["tx_hashes"], "w": r["wallets"], "c": r["condition_id"]},
        ).fetchone()
        if row and row[0] is not None:
            out.append(max(0.0, float(row[0])))
    return out
