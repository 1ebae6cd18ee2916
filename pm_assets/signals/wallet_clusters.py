"""wallet_clusters: several fresh wallets entering the same outcome of the same market within minutes of each other.

Entries (BUYs of a token; a SELL is an exit from shares held, never an entry) of at least cluster_min_usdc by wallets
whose first activity is younger than fresh_max_age_hours are chained while consecutive entries are at most
cluster_window_minutes apart; a chain with cluster_min_wallets distinct wallets is a cluster. Labelled wallets
(market makers, bots, sweepers) are not members by default; a cluster entering at sweep prices is kept
suppressed. The key is the chain's first entry, and a re-evaluated chain replaces the rows it overlaps.

Money that matters in its market (issue 16): the chain's entries together must be at least cluster_min_volume_share
of the market's 24 h volume (the larger of the warehouse's trades in the 24 h before the last entry and
markets.volume_24h). On real flow new wallets are common (16% of fills, half of $10k+ fills:
../shared/real-flow.md), so in a market trading $1M a day three of them buying one outcome within minutes is
ordinary flow; a chain under the share is not a cluster (no row).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pm_assets.signals import incremental, insider_inputs
from pm_assets.signals.noise_thresholds import ExcludeLabelled, FreshAge, Sweep
from pm_assets.signals.positions import SUPPRESSING_LABELS, is_sweep, iso, signal_key, usd
from pm_assets.signals.risk import RiskFacts, risk_summary
from pm_assets.signals.spec import SignalSpec, threshold
from pm_assets.storage.bulk import copy_upsert

TABLE = "wallet_clusters"
SIGNAL_TYPE = "wallet_cluster"


class WalletClusterThresholds(FreshAge, Sweep, ExcludeLabelled):
    cluster_window_minutes: int = threshold(
        15,
        "fresh-wallet entries into one outcome this close together chain into one cluster",
        ge=1,
        le=24 * 60,
    )
    cluster_min_wallets: int = threshold(3, "distinct fresh wallets that make a cluster", ge=2, le=1000)
    cluster_min_usdc: float = threshold(500.0, "least USDC entry that counts as a member", ge=0.0, le=1e9)
    cluster_min_volume_share: float = threshold(
        0.05,
        "least share of the market's 24 h volume the members' entries together must be (0 = off): three new "
        "wallets buying one outcome of a market trading $1M a day within minutes is ordinary flow",
        ge=0.0,
        le=1.0,
    )


@dataclass(frozen=True)
class Entry:
    fill_key: str
    traded_at: datetime
    wallet: str
    condition_id: str
    token_id: str
    side: str
    price: float
    usdc: float
    wallet_age_hours: float
    labels: tuple[str, ...] = ()

    @property
    def direction(self) -> tuple[str, str, str]:
        return (self.condition_id, self.token_id, self.side)

    @property
    def entry_price(self) -> float:
        return self.price if self.side == "BUY" else 1.0 - self.price


def members(entries: Sequence[Entry], t: Mapping) -> list[Entry]:
    return [
        e
        for e in entries
        if e.side == "BUY"
        and e.usdc >= t["cluster_min_usdc"]
        and e.wallet_age_hours < t["fresh_max_age_hours"]
        and not (t["exclude_labelled_wallets"] and set(e.labels) & set(SUPPRESSING_LABELS))
    ]


def chains(entries: Sequence[Entry], t: Mapping) -> list[list[Entry]]:
    """Member entries of one direction chained by gaps <= the cluster window; chains of enough wallets."""
    gap = timedelta(minutes=t["cluster_window_minutes"])
    out: list[list[Entry]] = []
    by_direction: dict[tuple, list[Entry]] = {}
    for e in members(entries, t):
        by_direction.setdefault(e.direction, []).append(e)
    for group in by_direction.values():
        group.sort(key=lambda e: (e.traded_at, e.fill_key))
        chain = [group[0]]
        for e in group[1:]:
            if e.traded_at - chain[-1].traded_at > gap:
                out.append(chain)
                chain = []
            chain.append(e)
        out.append(chain)
    return [c for c in out if len({e.wallet for e in c}) >= t["cluster_min_wallets"]]


def matters_in_market(total_usdc: float, volume_24h: float | None, t: Mapping) -> bool:
    """The members' entries are at least cluster_min_volume_share of the market's 24 h volume (unknown or no
    volume: they matter)."""
    floor = t.get("cluster_min_volume_share", 0.0)  # rows stored before the rule lack it
    return floor <= 0 or not volume_24h or total_usdc >= floor * volume_24h


def verdict(evidence: Mapping) -> str | None:
    t, x = evidence["thresholds"], evidence["inputs"]
    ms = x["members"]
    ok = [
        m
        for m in ms
        if m["usdc"] >= t["cluster_min_usdc"]
        and m["wallet_age_hours"] < t["fresh_max_age_hours"]
        and m.get("side", "BUY") == "BUY"
    ]
    times = sorted(datetime.fromisoformat(m["traded_at"]) for m in ok)
    gap = timedelta(minutes=t["cluster_window_minutes"])
    gaps_ok = all(b - a <= gap for a, b in zip(times, times[1:], strict=False))
    if len(ok) != len(ms) or not gaps_ok or len({m["wallet"] for m in ms}) < t["cluster_min_wallets"]:
        return "not_fired"
    if not matters_in_market(sum(m["usdc"] for m in ms), x.get("volume_24h_usdc"), t):
        return "not_fired"
    return "settlement_sweep" if is_sweep(x["entry_vwap"], t["sweep_entry_price"]) else None


def should_fire(evidence: Mapping) -> bool:
    return verdict(evidence) is None


def cluster_row(chain: list[Entry], t: Mapping, volume_24h: float | None = None) -> dict:
    total = sum(e.usdc for e in chain)
    vwap = sum(e.entry_price * e.usdc for e in chain) / total if total > 0 else chain[0].entry_price
    wallets = sorted({e.wallet for e in chain})
    minutes = (chain[-1].traded_at - chain[0].traded_at).total_seconds() / 60
    youngest = min(e.wallet_age_hours for e in chain)
    risk = risk_summary(RiskFacts(youngest, t["fresh_max_age_hours"], cluster_wallets=len(wallets)))
    inputs = {
        "members": [
            {
                "fill_key": e.fill_key,
                "wallet": e.wallet,
                "traded_at": iso(e.traded_at),
                "usdc": round(e.usdc, 2),
                "price": e.price,
                "side": e.side,
                "wallet_age_hours": round(e.wallet_age_hours, 3),
            }
            for e in chain
        ],
        "entry_vwap": round(vwap, 6),
        "span_minutes": round(minutes, 2),
        "volume_24h_usdc": None if volume_24h is None else round(volume_24h, 2),
        "volume_share": round(total / volume_24h, 6) if volume_24h else None,
    }
    first = chain[0]
    evidence = {"signal": TABLE, "thresholds": dict(t), "inputs": inputs, "risk": risk}
    evidence["summary"] = (
        f"{len(wallets)} wallets first active {min(e.wallet_age_hours for e in chain):.0f}-"
        f"{max(e.wallet_age_hours for e in chain):.0f} h earlier put {usd(total)} on one outcome "
        f"({'buying' if first.side == 'BUY' else 'selling'} at ~{first.price:.2f}) within {minutes:.0f} min"
        + (f", {100 * total / volume_24h:.1f}% of the market's 24 h volume" if volume_24h else "")
        + f" — {risk['reason']}"
    )
    return {
        "signal_key": signal_key(TABLE, first.condition_id, first.token_id, first.side, first.fill_key),
        "condition_id": first.condition_id,
        "token_id": first.token_id,
        "started_at": first.traded_at,
        "ended_at": chain[-1].traded_at,
        "wallet_count": len(wallets),
        "wallets": wallets,
        "total_usdc": round(total, 2),
        "risk_score": risk["score"],
        "suppressed_reason": verdict(evidence),
        "evidence": evidence,
    }


def chain_volume_24h(conn: psycopg.Connection, chain: Sequence[Entry]) -> float:
    """The market's 24 h volume at the chain's last entry: the larger of the warehouse's own trades and
    markets.volume_24h (a warehouse with little history does not make every chain look large)."""
    last = chain[-1]
    facts = insider_inputs.market_facts(conn, [last.condition_id]).get(last.condition_id)
    listed = (facts.volume_24h or 0.0) if facts else 0.0
    return max(insider_inputs.trailing_volume(conn, last.condition_id, last.traded_at), listed)


ENTRIES_SQL = """
with dirs as (
    select distinct t.condition_id, t.token_id, t.side from trades t where {window}
)
select x.fill_key, x.traded_at, x.wallet, x.condition_id, x.token_id, x.side, x.price, x.usdc_size,
       extract(epoch from x.traded_at - w.first_activity_at) / 3600.0,
       array(select l.label from wallet_behaviour_labels l where l.wallet = x.wallet)
  from dirs d
  join trades x on x.token_id = d.token_id and x.side = d.side and x.traded_at >= %s and x.traded_at <= %s
  join wallets w on w.wallet = x.wallet and w.first_activity_at is not null
 where x.usdc_size >= %s and x.traded_at - w.first_activity_at < %s
"""


def read_entries(conn: psycopg.Connection, window: incremental.TradeWindow, t: Mapping) -> list[Entry]:
    count, first, last = incremental.new_trade_span(conn, window)
    if not count:
        return []
    reach = 4 * timedelta(minutes=t["cluster_window_minutes"])
    where, params = window.trade_filter("t")
    rows = conn.execute(
        sql.SQL(ENTRIES_SQL).format(window=where),
        [
            *params,
            first - reach,
            last + reach,
            t["cluster_min_usdc"],
            timedelta(hours=t["fresh_max_age_hours"]),
        ],
    ).fetchall()
    return [Entry(*r[:8], max(float(r[8]), 0.0), tuple(r[9])) for r in rows]


def write_clusters(conn: psycopg.Connection, rows: list[dict], t: Mapping) -> int:
    """Upsert, replacing stored clusters of the same direction that a re-evaluated chain now covers. An alert
    evaluated under other thresholds than `t` is neither replaced nor rewritten (it may have been delivered)."""
    kept = incremental.alerts_under_other_thresholds(conn, TABLE, [r["signal_key"] for r in rows], dict(t))
    rows = [r for r in rows if r["signal_key"] not in kept]
    same = Jsonb(dict(t))
    replaced = 0
    for r in rows:
        replaced += conn.execute(
            sql.SQL(
                "delete from wallet_clusters where token_id = %s and evidence->'inputs'->'members'->0->>'side' = %s"
                " and started_at <= %s and ended_at >= %s and signal_key <> %s and {}"
            ).format(incremental.replaceable()),
            (
                r["token_id"],
                r["evidence"]["inputs"]["members"][0]["side"],
                r["ended_at"],
                r["started_at"],
                r["signal_key"],
                same,
            ),
        ).rowcount
    if rows:
        columns = list(rows[0])
        copy_upsert(
            conn,
            TABLE,
            columns,
            [[Jsonb(r[c]) if c == "evidence" else r[c] for c in columns] for r in rows],
            key=["signal_key"],
            update=[c for c in columns if c != "signal_key"],
        )
    return replaced


def evaluate(log, warehouse, config, overlap: timedelta | None = None):
    """The asset's work (insider_assets.wallet_clusters), callable outside a run (the live pass,
    pm_sensors/live); `log` has `.info`, `config` the asset's Launchpad config. Returns a dg.MaterializeResult."""
    import dagster as dg

    from pm_assets.signals.insider_runs import is_what_if, run_thresholds, trade_window, write_what_if

    what_if_id = None
    with warehouse.connect() as conn:
        t = run_thresholds(conn, SPEC, config, log)
        window = trade_window(conn, TABLE, config, overlap)
        entries = read_entries(conn, window, t)
        rows = [cluster_row(c, t, chain_volume_24h(conn, c)) for c in chains(entries, t)]
        rows = [r for r in rows if r["suppressed_reason"] != "not_fired"]
        if is_what_if(config):
            what_if_id, _ = write_what_if(conn, SIGNAL_TYPE, t, rows)
            replaced = 0
        else:
            replaced = write_clusters(conn, rows, t)
            incremental.advance_watermark(conn, window, detail={"clusters": len(rows)})
    alerts = sum(1 for r in rows if r["suppressed_reason"] is None)
    log.info(f"{len(entries)} fresh entries, {len(rows)} clusters ({alerts} alerts), {replaced} replaced")
    return dg.MaterializeResult(
        metadata={
            "fresh_entries": len(entries),
            "clusters": len(rows),
            "alerts": alerts,
            "replaced": replaced,
            "thresholds": dict(t),
            **({"what_if_id": what_if_id, "what_if_table": "signal_what_if"} if what_if_id else {}),
        }
    )


SPEC = SignalSpec(
    signal_type=SIGNAL_TYPE,
    asset=TABLE,
    thresholds=WalletClusterThresholds,
    table=TABLE,
    label="Wallet clusters",
    alert_title="Wallet cluster",
    # The cluster exists once its last member entered: scoring or alerting from started_at would use a price
    # and a time no follower could have seen.
    time_column="ended_at",
    direction="buy",
    aliases={"usdc": "total_usdc", "wallets": "wallet_count", "score": "risk_score"},
    rule=should_fire,
    has_token=True,
)
