"""fresh_wallet_trades: a position of at least X USDC built by a wallet whose first Polymarket activity is recent.

Wallet age comes from wallets.first_activity_at (the wallet's own history), never from when pm-intel first saw
the wallet. Unknown age: the row is kept with suppressed_reason 'wallet_age_unknown' and re-evaluated once the
age is known. Noise control (settlement sweeps, labelled market makers and bots, one alert per wallet and market
then escalations only, accumulation of split buys, net positions: a sell is an exit) comes from positions.py.

Time to resolution (issue 16): the favourite (entry >= favourite_min_price) bought within favourite_final_hours of
the market's end date is an ordinary bet on the likely winner, kept as 'favourite_near_resolution'. Every row
states the end date, the hours left and the payoff the entry buys, (1 - p) / p, which also weighs in its risk.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from pm_assets.signals import insider_inputs
from pm_assets.signals.insider_inputs import MarketFacts, WalletFacts
from pm_assets.signals.noise_thresholds import FreshAge, LateFavourite, Niche, PositionNoise
from pm_assets.signals.positions import (
    Fill,
    age_text,
    first_alert_position,
    hours_between,
    hours_left,
    iso,
    left_text,
    net_usdc,
    noise_reason,
    payoff,
    position_tiers,
    signal_key,
    trailing_fills,
    usd,
)
from pm_assets.signals.risk import RiskFacts, risk_summary
from pm_assets.signals.spec import TRADE_INGESTED, SignalSpec, threshold

TABLE = "fresh_wallet_trades"
SIGNAL_TYPE = "fresh_wallet"


class FreshWalletThresholds(PositionNoise, FreshAge, Niche, LateFavourite):
    fresh_min_usdc: float = threshold(
        2500.0,
        "least USDC position (summed within the accumulation window) that fires",
        ge=0.0,
        le=1e9,
    )
    fresh_max_prior_trades: int = threshold(
        0,
        "also fresh: fewer than this many earlier trades in the warehouse "
        "(0 = off; enable only where trade history covers wallets' whole life)",
        ge=0,
        le=100_000,
    )
    fresh_min_volume_share: float = threshold(
        0.01,
        "least share of the market's 24 h volume the position must be (0 = off): in a market trading $1M a day a "
        "new wallet's few-thousand-dollar ticket is ordinary flow (new wallets place half of real $10k+ fills)",
        ge=0.0,
        le=1.0,
    )
    fresh_max_liquidity: float = threshold(
        0.0, "only markets with liquidity under this (0 = every market)", ge=0.0, le=1e10
    )


def is_fresh(age_hours: float | None, prior_trades: int | None, t: Mapping) -> bool | None:
    """True/False, or None when the age is unknown and the prior-trades rule cannot say yes."""
    if (
        prior_trades is not None
        and t["fresh_max_prior_trades"] > 0
        and prior_trades < t["fresh_max_prior_trades"]
    ):
        return True
    if age_hours is None:
        return None
    return age_hours < t["fresh_max_age_hours"]


def matters_in_market(usdc: float, volume_24h: float, t: Mapping) -> bool:
    """The position is at least fresh_min_volume_share of what the market trades in a day (a market with no
    volume on record: any position matters)."""
    floor = t.get("fresh_min_volume_share", 0.0)  # rows stored before the rule lack it
    return floor <= 0 or volume_24h <= 0 or usdc >= floor * volume_24h


def verdict(evidence: Mapping) -> str | None:
    """Recomputed from the evidence alone: None = alert-worthy, 'not_fired' = the rule did not hold, else the
    noise-control reason the row was suppressed for."""
    t, x = evidence["thresholds"], evidence["inputs"]
    if evidence["tier"] == 0:
        if x["window_usdc"] < t["fresh_min_usdc"]:
            return "not_fired"
        liquidity = x["market_liquidity"]
        if t["fresh_max_liquidity"] > 0 and (liquidity is None or liquidity >= t["fresh_max_liquidity"]):
            return "not_fired"
        if not matters_in_market(x["window_usdc"], x["volume_24h_usdc"], t):
            return "not_fired"
    elif x["cumulative_usdc"] < x["multiplier"] * x["first_alert_usdc"]:
        return "not_fired"
    fresh = is_fresh(x["wallet_age_hours"], x["prior_trade_count"], t)
    if fresh is False:
        return "not_fired"
    reason = noise_reason(x["labels"], x["entry_vwap"], t, x.get("hours_to_end"))
    if reason is None and fresh is None:
        reason = "wallet_age_unknown"
    return reason


def should_fire(evidence: Mapping) -> bool:
    return verdict(evidence) is None


def fresh_wallet_rows(
    fills: list[Fill],
    wallet: WalletFacts,
    market: MarketFacts | None,
    t: Mapping,
    *,
    volume_at: Callable[[datetime], float],
    prior_count: Callable[[datetime], int] | None = None,
) -> list[dict]:
    """The alert (tier 0) and escalation rows of one wallet's position in one market."""
    window = timedelta(minutes=t["accumulation_window_minutes"])
    liquidity = market.liquidity if market else None
    use_prior = prior_count is not None and t["fresh_max_prior_trades"] > 0

    def facts_at(at: datetime) -> tuple[float | None, int | None]:
        age = hours_between(wallet.first_activity_at, at)
        return (None if age is None else max(age, 0.0)), (prior_count(at) if use_prior else None)

    def volume_24h(at: datetime) -> float:
        return max(volume_at(at), (market.volume_24h or 0.0) if market else 0.0)

    def fires(trailing: list[Fill]) -> bool:
        usdc = net_usdc(trailing)
        if usdc < t["fresh_min_usdc"]:
            return False
        if t["fresh_max_liquidity"] > 0 and (liquidity is None or liquidity >= t["fresh_max_liquidity"]):
            return False
        if is_fresh(*facts_at(trailing[0].traded_at), t) is False:
            return False
        return matters_in_market(usdc, volume_24h(trailing[-1].traded_at), t)

    position = first_alert_position(fills, window, fires)
    if position is None:
        return []
    trailing = trailing_fills(position, window)
    age, prior = facts_at(trailing[0].traded_at)
    volume = volume_24h(position.crossing.traded_at)
    niche = volume < t["niche_volume_usdc"]
    end_date = market.end_date if market else None
    base = {
        "wallet_first_activity_at": iso(wallet.first_activity_at),
        "wallet_age_hours": age,
        "prior_trade_count": prior,
        "market_liquidity": liquidity,
        "labels": list(wallet.labels),
        "volume_24h_usdc": round(volume, 2),
        "niche": niche,
        "window_started_at": iso(trailing[0].traded_at),
        "market_end_date": iso(end_date),
    }
    rows = []
    for tier in position_tiers(position, fills, [t["escalation_tier_1"], t["escalation_tier_2"]]):
        crossing, usdc, count, multiplier = tier.crossing, tier.usdc, tier.fill_count, tier.multiplier
        held, vwap = tier.held, tier.entry_vwap
        share = usdc / volume if volume > 0 else None
        gain = payoff(vwap)
        left = hours_left(end_date, crossing.traded_at)
        risk = risk_summary(RiskFacts(age, t["fresh_max_age_hours"], share, None, niche, payoff=gain))
        inputs = dict(
            base,
            position_usdc=round(usdc, 2),
            fill_count=count,
            crossing_fill_key=crossing.fill_key,
            window_usdc=round(net_usdc(trailing), 2),
            entry_vwap=round(vwap, 6),
            payoff=gain,
            hours_to_end=left,
            exited_usdc=round(tier.holding.exited_usdc, 2),
            volume_share=None if share is None else round(share, 6),
            fill_keys=[f.fill_key for f in held][:50],
        )
        if tier.tier:
            inputs.update(
                first_alert_usdc=round(position.usdc, 2),
                cumulative_usdc=round(usdc, 2),
                multiplier=multiplier,
            )
        evidence = {"signal": TABLE, "tier": tier.tier, "thresholds": dict(t), "inputs": inputs, "risk": risk}
        evidence["summary"] = _summary(
            crossing, usdc, count, age, tier.tier, multiplier, position.usdc, risk["reason"], vwap, left
        )
        rows.append(
            {
                "signal_key": signal_key(TABLE, wallet.wallet, crossing.condition_id, tier.tier),
                "fill_key": crossing.fill_key,
                "traded_at": crossing.traded_at,
                "wallet": wallet.wallet,
                "condition_id": crossing.condition_id,
                "token_id": crossing.token_id,
                "side": crossing.side,
                "price": crossing.price,
                "usdc_size": round(usdc, 2),
                "wallet_first_activity_at": wallet.first_activity_at,
                "wallet_age_hours": age,
                "prior_trade_count": prior,
                "market_liquidity": liquidity,
                "risk_score": risk["score"],
                "suppressed_reason": verdict(evidence),
                "evidence": evidence,
                "alert_tier": tier.tier,
                "fill_count": count,
            }
        )
    return rows


def _summary(
    crossing: Fill,
    usdc: float,
    count: int,
    age: float | None,
    tier: int,
    multiplier: float | None,
    first_usdc: float,
    reason: str,
    vwap: float,
    left: float | None,
) -> str:
    what = (
        f"{'buy' if crossing.side == 'BUY' else 'sell'} of {crossing.outcome or 'the outcome'} at "
        f"{crossing.price:.2f}"
    )
    notes = [] if (gain := payoff(vwap)) is None else [f"pays {gain:.2f}x if right"]
    if left is not None:
        notes.append(left_text(left))
    what += f" ({', '.join(notes)})" if notes else ""
    fills = f" ({count} fills)" if count > 1 else ""
    if tier == 0:
        head = f"{age_text(age)} this {usd(usdc)} {what}{fills}"
    else:
        head = (
            f"position grew to {usd(usdc)}{fills}, {multiplier:g}x the first alert of {usd(first_usdc)} "
            f"(last fill: {what})"
        )
    return f"{head} — {reason}"


def evaluate(log, warehouse, config, overlap: timedelta | None = None):
    """The asset's work (insider_assets.fresh_wallet_trades), callable outside a run (the live pass,
    pm_sensors/live); `log` has `.info`, `config` the asset's Launchpad config. Returns a dg.MaterializeResult."""
    from pm_assets.signals.insider_runs import run_position_signal

    return run_position_signal(
        log,
        warehouse,
        TABLE,
        SIGNAL_TYPE,
        config,
        build_rows=_rows_for_pairs,
        candidate=_may_be_fresh,
        overlap=overlap,
    )


def _may_be_fresh(pair, wallet: WalletFacts, t: Mapping) -> bool:
    """Skip wallets that were already old before any fill this run could add to a position (cheap pre-filter)."""
    if wallet.first_activity_at is None or t["fresh_max_prior_trades"] > 0:
        return True
    earliest = pair.first_new - 2 * timedelta(minutes=t["accumulation_window_minutes"])
    return hours_between(wallet.first_activity_at, earliest) < t["fresh_max_age_hours"]


def _rows_for_pairs(conn, t, fills_by_pair, wallets, markets) -> list[dict]:
    rows = []
    for (wallet, condition_id), fills in fills_by_pair.items():
        facts = wallets.get(wallet) or WalletFacts(wallet, None, ())

        def volume_at(at, cid=condition_id):
            return insider_inputs.trailing_volume(conn, cid, at)

        def prior_count(at, w=wallet):
            return insider_inputs.prior_trade_count(conn, w, at, int(t["fresh_max_prior_trades"]))

        rows += fresh_wallet_rows(
            fills, facts, markets.get(condition_id), t, volume_at=volume_at, prior_count=prior_count
        )
    return rows


SPEC = SignalSpec(
    signal_type=SIGNAL_TYPE,
    asset=TABLE,
    thresholds=FreshWalletThresholds,
    table=TABLE,
    label="Fresh-wallet trades",
    alert_title="Fresh wallet trade",
    time_column="traded_at",
    direction="side",
    aliases={"usdc": "usdc_size", "score": "risk_score", "age_hours": "wallet_age_hours"},
    rule=should_fire,
    ingested=TRADE_INGESTED,
    has_token=True,
    has_wallet=True,
)
