"""wallet_behaviour_labels: market makers, bots and settlement sweepers, recognised from how a wallet trades.

- market_maker: many trades in many markets, on both sides of most of them, with little net position;
- bot: a very high trade count in the lookback, or a very high rate (trades per day over the span it traded in,
  at least 6 hours so a burst of split buys is not a bot);
- settlement_sweeper: mostly buys near-certain outcomes (average entry price above sweeper_min_entry_price).
Insider signals leave labelled wallets out by default (rows kept, suppressed_reason = the label). Labels are
recomputed for the wallets that traded since the last run, from their last label_lookback_days of trades (capped
at the newest 5,000 per wallet), measured back from their newest new trade, so a replay gives the same labels.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pm_assets.signals import incremental
from pm_assets.signals.spec import ThresholdSet, Tunable, threshold

TABLE = "wallet_behaviour_labels"
SIGNAL_TYPE = "wallet_labels"
TRADES_PER_WALLET = 5000
MIN_RATE_SPAN_HOURS = 6.0


class WalletLabelThresholds(ThresholdSet):
    label_lookback_days: int = threshold(
        7, "days of a wallet's trades its behaviour labels are computed from", ge=1, le=365
    )
    mm_min_trades: int = threshold(
        200, "market maker: at least this many trades in the lookback", ge=1, le=10_000_000
    )
    mm_min_markets: int = threshold(10, "market maker: in at least this many markets", ge=1, le=100_000)
    mm_min_two_sided_share: float = threshold(
        0.5,
        "market maker: share of its markets where it traded both ways (bought and sold, or bought both outcomes)",
        ge=0.0,
        le=1.0,
    )
    mm_max_net_share: float = threshold(
        0.5, "market maker: net exposure (per market, summed) / traded USDC at most this", ge=0.0, le=1.0
    )
    bot_min_trades: int = threshold(
        1000, "bot: at least this many trades in the lookback", ge=1, le=10_000_000
    )
    bot_min_trades_per_day: float = threshold(
        500.0,
        "bot: or at least this many trades per day (over the span it traded, at least 6 h)",
        ge=1.0,
        le=10_000_000.0,
    )
    sweeper_min_trades: int = threshold(
        3, "settlement sweeper: at least this many trades ...", ge=1, le=1_000_000
    )
    sweeper_min_entry_price: float = threshold(
        0.95, "... with an average entry price above this", ge=0.5, le=1.0
    )


@dataclass(frozen=True)
class WalletBehaviour:
    trades: int
    markets: int
    two_sided_markets: int
    usdc: float
    net_usdc: float  # sum over markets of |exposure to outcome 0 - exposure to outcome 1|
    avg_entry_price: float
    span_hours: float = 0.0

    @property
    def trades_per_day(self) -> float:
        return self.trades / (max(self.span_hours, MIN_RATE_SPAN_HOURS) / 24.0)

    @property
    def two_sided_share(self) -> float:
        return self.two_sided_markets / self.markets if self.markets else 0.0

    @property
    def net_share(self) -> float:
        return self.net_usdc / self.usdc if self.usdc > 0 else 1.0


def behaviour_labels(b: WalletBehaviour, t: Mapping) -> dict[str, dict]:
    """label -> evidence (the measures and thresholds that gave it)."""
    measures = dict(
        asdict(b),
        two_sided_share=round(b.two_sided_share, 4),
        net_share=round(b.net_share, 4),
        trades_per_day=round(b.trades_per_day, 1),
    )
    out = {}
    if (
        b.trades >= t["mm_min_trades"]
        and b.markets >= t["mm_min_markets"]
        and b.two_sided_share >= t["mm_min_two_sided_share"]
        and b.net_share <= t["mm_max_net_share"]
    ):
        out["market_maker"] = measures
    if b.trades >= t["bot_min_trades"] or b.trades_per_day >= t["bot_min_trades_per_day"]:
        out["bot"] = measures
    if b.trades >= t["sweeper_min_trades"] and b.avg_entry_price > t["sweeper_min_entry_price"]:
        out["settlement_sweeper"] = measures
    return {label: {"measures": ev, "thresholds": dict(t)} for label, ev in out.items()}


# Exposure direction: +1 towards the market's outcome 0 (BUY of it, SELL of the other), -1 the other way.
BEHAVIOUR_SQL = """
with touched as (
    select t.wallet, max(t.traded_at) as upto from trades t where {window} group by t.wallet
), recent as (
    select w.wallet, r.* from touched w cross join lateral (
        select x.condition_id, x.token_id, x.side, x.price, x.usdc_size, x.traded_at,
               coalesce(k.outcome_index, x.outcome_index) oi
          from trades x left join tokens k on k.token_id = x.token_id
         where x.wallet = w.wallet and x.traded_at > w.upto - %s and x.traded_at <= w.upto
         order by x.traded_at desc limit %s) r
), per_market as (
    select wallet, condition_id, count(*) n, sum(usdc_size) usdc,
           abs(sum(case when (side = 'BUY') = (oi = 0) then usdc_size else -usdc_size end)) net,
           (count(distinct side) > 1 or count(distinct token_id) filter (where side = 'BUY') > 1) two_sided,
           sum(case when side = 'BUY' then price else 1 - price end) entry_sum,
           min(traded_at) first_at, max(traded_at) last_at
      from recent group by wallet, condition_id
)
select wallet, sum(n)::int, count(*)::int, count(*) filter (where two_sided)::int, coalesce(sum(usdc), 0),
       coalesce(sum(net), 0), sum(entry_sum) / greatest(sum(n), 1),
       (extract(epoch from max(last_at) - min(first_at)) / 3600.0)::float8
  from per_market group by wallet
"""


def wallet_behaviour(conn: psycopg.Connection, window: incremental.TradeWindow, lookback: timedelta):
    where, params = window.trade_filter("t")
    rows = conn.execute(sql.SQL(BEHAVIOUR_SQL).format(window=where), [*params, lookback, TRADES_PER_WALLET])
    return {r[0]: WalletBehaviour(*r[1:]) for r in rows}


def evaluate(log, warehouse, config, overlap: timedelta | None = None):
    """The asset's work (insider_assets.wallet_behaviour_labels), callable outside a run (the live pass,
    pm_sensors/live); `log` has `.info`, `config` the asset's Launchpad config. Returns a dg.MaterializeResult."""
    import dagster as dg

    from pm_assets.signals.insider_runs import is_what_if, run_thresholds, trade_window, write_what_if

    with warehouse.connect() as conn:
        t = run_thresholds(conn, TUNING, config, log)
        window = trade_window(conn, TABLE, config, overlap)
        behaviour = wallet_behaviour(conn, window, timedelta(days=t["label_lookback_days"]))
        labels = [
            (w, label, Jsonb(ev))
            for w, b in behaviour.items()
            for label, ev in behaviour_labels(b, t).items()
        ]
        if is_what_if(config):
            rows = [{"signal_key": f"{w}:{label}", "wallet": w, "label": label} for w, label, _ in labels]
            write_what_if(conn, SIGNAL_TYPE, t, rows)
        else:
            conn.execute("delete from wallet_behaviour_labels where wallet = any(%s)", (list(behaviour),))
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into wallet_behaviour_labels (wallet, label, evidence) values (%s, %s, %s)",
                    labels,
                )
            incremental.advance_watermark(conn, window, detail={"wallets": len(behaviour)})
    counts: dict[str, int] = {}
    for _, label, _ in labels:
        counts[label] = counts.get(label, 0) + 1
    log.info(f"labelled {len(labels)} of {len(behaviour)} wallets: {counts}")
    return dg.MaterializeResult(
        metadata={"wallets_evaluated": len(behaviour), "labels": counts, "thresholds": dict(t)}
    )


TUNING = Tunable(signal_type=SIGNAL_TYPE, asset=TABLE, thresholds=WalletLabelThresholds)
