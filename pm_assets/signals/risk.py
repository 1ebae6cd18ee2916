"""Composite risk score: one number and one sentence per trade and per wallet from every insider signal.

Each component is in [0, 1]; the score is 100 x the weighted sum, so 100 means every component at its maximum.

| component     | weight | 1.0 means                                                     |
|---------------|--------|---------------------------------------------------------------|
| fresh_wallet  | 0.30   | wallet first active just now (falls linearly to 0 at the fresh age limit) |
| volume_share  | 0.20   | the position is >= 10% of the market's 24 h volume            |
| cluster       | 0.20   | entered together with other fresh wallets (a wallet_clusters row) |
| payoff        | 0.15   | the entry pays >= 4x if right ((1 - p) / p; entry at 0.20 or less); a favourite pays little |
| book_depth    | 0.10   | the largest fill took >= 2x the visible depth on its side     |
| niche_market  | 0.05   | the market trades less than niche_volume_usdc a day           |

The reason names the components that contributed ("fresh wallet + 8% of daily volume + niche market").
Each signal row stores its own risk block; the `trade_risk_scores` asset combines every signal about one position
(fresh wallet + size anomaly + cluster membership) per alert fill, and `wallet_risk_scores` keeps each wallet's
highest. Only rows changed since the last run are re-scored.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from psycopg.types.json import Jsonb

from pm_assets.storage.bulk import copy_upsert

WEIGHTS: Mapping[str, float] = {
    "fresh_wallet": 0.30,
    "volume_share": 0.20,
    "cluster": 0.20,
    "payoff": 0.15,
    "book_depth": 0.10,
    "niche_market": 0.05,
}
FULL_VOLUME_SHARE = 0.10
FULL_DEPTH_SHARE = 2.0
FULL_PAYOFF = 4.0


@dataclass(frozen=True)
class RiskFacts:
    """What is known about one position when its risk is scored (None = unknown, contributes nothing)."""

    wallet_age_hours: float | None = None
    fresh_max_age_hours: float = 168.0
    volume_share: float | None = None
    depth_share: float | None = None
    niche: bool = False
    cluster_wallets: int = 0
    payoff: float | None = None  # (1 - p) / p of the entry


def risk_components(facts: RiskFacts) -> dict[str, float]:
    fresh = 0.0
    if facts.wallet_age_hours is not None and facts.fresh_max_age_hours > 0:
        fresh = max(0.0, 1.0 - facts.wallet_age_hours / facts.fresh_max_age_hours)
    return {
        "fresh_wallet": round(min(1.0, fresh), 4),
        "volume_share": round(min(1.0, (facts.volume_share or 0.0) / FULL_VOLUME_SHARE), 4),
        "cluster": 1.0 if facts.cluster_wallets >= 2 else 0.0,
        "payoff": round(min(1.0, max(0.0, facts.payoff or 0.0) / FULL_PAYOFF), 4),
        "book_depth": round(min(1.0, (facts.depth_share or 0.0) / FULL_DEPTH_SHARE), 4),
        "niche_market": 1.0 if facts.niche else 0.0,
    }


def risk_score(components: Mapping[str, float], weights: Mapping[str, float] = WEIGHTS) -> float:
    return round(100.0 * sum(weights[k] * components.get(k, 0.0) for k in weights), 1)


def risk_reason(facts: RiskFacts) -> str:
    """The contributing components in words, strongest first by weight."""
    parts = []
    if facts.wallet_age_hours is not None and facts.wallet_age_hours < facts.fresh_max_age_hours:
        parts.append("fresh wallet")
    if facts.volume_share is not None and facts.volume_share >= 0.01:
        parts.append(f"{_pct(facts.volume_share)} of daily volume")
    if facts.cluster_wallets >= 2:
        parts.append(f"entered with {facts.cluster_wallets - 1} other fresh wallets")
    if facts.payoff is not None and facts.payoff >= 1.0:
        parts.append(f"pays {facts.payoff:.1f}x if right")
    if facts.depth_share is not None and facts.depth_share >= 0.5:
        parts.append(f"took {_pct(facts.depth_share)} of the book's depth")
    if facts.niche:
        parts.append("niche market")
    return " + ".join(parts) if parts else "no risk factor"


def risk_summary(facts: RiskFacts, weights: Mapping[str, float] = WEIGHTS) -> dict:
    """The block stored as evidence["risk"]: score, components, weights and reason."""
    components = risk_components(facts)
    return {
        "score": risk_score(components, weights),
        "components": components,
        "weights": dict(weights),
        "reason": risk_reason(facts),
    }


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%" if share < 0.1 else f"{share * 100:.0f}%"


SIGNAL_ROWS_SQL = """
with changed as (
    select wallet, condition_id from fresh_wallet_trades where updated_at > %(since)s
    union select wallet, condition_id from size_anomalies where updated_at > %(since)s
    union select unnest(wallets), condition_id from wallet_clusters where updated_at > %(since)s
)
select 'fresh' src, f.fill_key, f.traded_at, f.wallet, f.condition_id, f.suppressed_reason, f.evidence
  from fresh_wallet_trades f join changed c using (wallet, condition_id)
union all
select 'size', s.fill_key, s.traded_at, s.wallet, s.condition_id, s.suppressed_reason, s.evidence
  from size_anomalies s join changed c using (wallet, condition_id)
union all
select 'cluster', m->>'fill_key', (m->>'traded_at')::timestamptz, m->>'wallet', k.condition_id,
       k.suppressed_reason, jsonb_build_object('wallet_count', k.wallet_count, 'inputs', m)
  from wallet_clusters k cross join lateral jsonb_array_elements(k.evidence->'inputs'->'members') m
  join changed c on c.wallet = m->>'wallet' and c.condition_id = k.condition_id
"""


def position_risk(
    signals: list[tuple[str, str | None, dict]], fresh_max_age_hours: float
) -> tuple[RiskFacts, str | None]:
    """Facts of one position from its signal rows [(source, suppressed_reason, evidence)], and the position's
    suppressed_reason (None when any of its signals is alert-worthy)."""
    age = volume = depth = gain = None
    niche = False
    cluster = 0
    for source, _, ev in signals:
        if source == "cluster":
            cluster = max(cluster, int(ev["wallet_count"]))
            age = _min(age, ev["inputs"].get("wallet_age_hours"))
            continue
        x = ev["inputs"]
        age = _min(age, x.get("wallet_age_hours"))
        volume = _max(volume, x.get("volume_share"))
        depth = _max(depth, x.get("depth_share"))
        gain = _max(gain, x.get("payoff"))
        niche = niche or bool(x.get("niche"))
        fresh_max_age_hours = ev["thresholds"].get("fresh_max_age_hours", fresh_max_age_hours)
    reasons = [r for _, r, _ in signals]
    suppressed = None if any(r is None for r in reasons) else reasons[0]
    return RiskFacts(age, fresh_max_age_hours, volume, depth, niche, cluster, gain), suppressed


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


def evaluate(log, warehouse, overlap: timedelta | None = None):
    """The asset's work (insider_assets.trade_risk_scores), callable outside a run (the live pass,
    pm_sensors/live); `log` has `.info`. Returns a dg.MaterializeResult."""
    import dagster as dg

    cursor = "signal:trade_risk_scores"
    with warehouse.connect() as conn:
        row = conn.execute(
            "select complete_through from ingestion_cursors where name = %s", (cursor,)
        ).fetchone()
        since = (row[0] - (overlap or timedelta(minutes=5))) if row and row[0] else None
        upto = conn.execute("select now()").fetchone()[0]
        rows = conn.execute(SIGNAL_ROWS_SQL, {"since": since or upto.replace(year=1970)}).fetchall()
        by_position: dict[tuple[str, str], list] = {}
        for source, fill_key, traded_at, wallet, cid, reason, ev in rows:
            by_position.setdefault((wallet, cid), []).append((source, fill_key, traded_at, reason, ev))
        trades = []
        for (wallet, cid), signals in by_position.items():
            facts, suppressed = position_risk([(s, r, e) for s, _, _, r, e in signals], 168.0)
            summary = risk_summary(facts)
            fills = {(f, t) for s, f, t, _, _ in signals if s != "cluster"} or {
                (f, t) for _, f, t, _, _ in signals
            }
            for fill_key, traded_at in sorted(fills):
                trades.append(
                    (
                        fill_key,
                        traded_at,
                        wallet,
                        cid,
                        summary["score"],
                        Jsonb(summary["components"]),
                        summary["reason"],
                        suppressed,
                    )
                )
        columns = [
            "fill_key",
            "traded_at",
            "wallet",
            "condition_id",
            "score",
            "components",
            "reason",
            "suppressed_reason",
        ]
        copy_upsert(conn, "trade_risk_scores", columns, trades, key=["fill_key"], update=columns[1:])
        wallets = sorted({t[2] for t in trades})
        conn.execute(WALLET_SCORES_SQL, (wallets,))
        conn.execute(
            "insert into ingestion_cursors (name, complete_through) values (%s, %s) on conflict (name) do update"
            " set complete_through = excluded.complete_through, updated_at = now()",
            (cursor, upto),
        )
    log.info(f"re-scored {len(by_position)} positions, {len(trades)} trades, {len(wallets)} wallets")
    return dg.MaterializeResult(
        metadata={"positions": len(by_position), "trades": len(trades), "wallets": len(wallets)}
    )


WALLET_SCORES_SQL = """
insert into wallet_risk_scores (wallet, score, top_fill_key, condition_id, reason, alert_count, last_signal_at,
                                components, updated_at)
select distinct on (r.wallet) r.wallet, r.score, r.fill_key, r.condition_id, r.reason,
       count(*) filter (where r.suppressed_reason is null) over (partition by r.wallet),
       max(r.traded_at) over (partition by r.wallet), r.components, now()
  from trade_risk_scores r where r.wallet = any(%s)
 order by r.wallet, (r.suppressed_reason is null) desc, r.score desc, r.traded_at desc
on conflict (wallet) do update set score = excluded.score, top_fill_key = excluded.top_fill_key,
    condition_id = excluded.condition_id, reason = excluded.reason, alert_count = excluded.alert_count,
    last_signal_at = excluded.last_signal_at, components = excluded.components, updated_at = now()
"""
