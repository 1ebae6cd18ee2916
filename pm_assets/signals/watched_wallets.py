"""watched_wallet: a trade (or a position crossing the size its list sets) by a wallet on a user's watchlist.

The lists are the users' (pm_assets/wallets/watchlists.py, the Watchlists page). The same position rules as the
insider signals (positions.py): a wallet's fills in one market within the accumulation window are one position,
one alert per wallet and market, then escalations at 2x and 5x, never repeats; settlement sweeps and (optionally)
wallets labelled market maker or bot are kept suppressed with the reason. A list's `min_position_usdc` (null: the
`watched_min_usdc` threshold, 0 = any trade) is the size that fires; a wallet on several lists fires at the
smallest. Only trades ingested after a wallet joins a list are evaluated (a rescan covers earlier ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from pm_assets.signals.insider_inputs import MarketFacts, WalletFacts
from pm_assets.signals.noise_thresholds import PositionNoise
from pm_assets.signals.positions import (
    Fill,
    first_alert_position,
    iso,
    noise_reason,
    position_tiers,
    signal_key,
    trailing_fills,
    usd,
)
from pm_assets.signals.spec import TRADE_INGESTED, SignalSpec, threshold
from pm_assets.wallets.watchlists import Watch, watched_wallets

TABLE = "watched_wallet_trades"
SIGNAL_TYPE = "watched_wallet"


class WatchedWalletThresholds(PositionNoise):
    watched_min_usdc: float = threshold(
        0.0,
        "least USDC position (summed within the accumulation window) that fires, for lists without a size "
        "of their own (0 = any trade)",
        ge=0.0,
        le=1e12,
    )


def verdict(evidence: Mapping) -> str | None:
    """Recomputed from the evidence alone: None = alert-worthy, 'not_fired' = the rule did not hold, else the
    noise-control reason the row was suppressed for."""
    t, x = evidence["thresholds"], evidence["inputs"]
    if not x["watchlists"]:
        return "not_fired"
    if evidence["tier"] == 0:
        if x["window_usdc"] <= 0 or x["window_usdc"] < x["min_position_usdc"]:
            return "not_fired"
    elif x["cumulative_usdc"] < x["multiplier"] * x["first_alert_usdc"]:
        return "not_fired"
    return noise_reason(x["labels"], x["entry_vwap"], t)


def should_fire(evidence: Mapping) -> bool:
    return verdict(evidence) is None


def watched_rows(
    fills: list[Fill], wallet: WalletFacts, watch: Watch, market: MarketFacts | None, t: Mapping
) -> list[dict]:
    """The alert (tier 0) and escalation rows of one watched wallet's position in one market."""
    window = timedelta(minutes=t["accumulation_window_minutes"])
    least = watch.min_position_usdc(float(t["watched_min_usdc"]))

    def fires(trailing: list[Fill]) -> bool:
        usdc = sum(f.usdc for f in trailing)
        return usdc > 0 and usdc >= least

    position = first_alert_position(fills, window, fires)
    if position is None:
        return []
    trailing = trailing_fills(position, window)
    base = {
        "watchlists": list(watch.lists),
        "watch_labels": list(watch.labels),
        "min_position_usdc": least,
        "wallet_first_activity_at": iso(wallet.first_activity_at),
        "labels": list(wallet.labels),
        "market_question": market.question if market else None,
        "window_started_at": iso(trailing[0].traded_at),
    }
    rows = []
    for tier in position_tiers(position, fills, [t["escalation_tier_1"], t["escalation_tier_2"]]):
        crossing = tier.crossing
        inputs = dict(
            base,
            position_usdc=round(tier.usdc, 2),
            fill_count=tier.fill_count,
            crossing_fill_key=crossing.fill_key,
            window_usdc=round(sum(f.usdc for f in trailing), 2),
            entry_vwap=round(tier.entry_vwap, 6),
            fill_keys=[f.fill_key for f in tier.held][:50],
        )
        if tier.tier:
            inputs.update(
                first_alert_usdc=round(position.usdc, 2),
                cumulative_usdc=round(tier.usdc, 2),
                multiplier=tier.multiplier,
            )
        evidence = {"signal": TABLE, "tier": tier.tier, "thresholds": dict(t), "inputs": inputs}
        evidence["summary"] = _summary(
            crossing, tier.usdc, tier.fill_count, tier.tier, position.usdc, watch, least
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
                "usdc_size": round(tier.usdc, 2),
                "fill_count": tier.fill_count,
                "alert_tier": tier.tier,
                "watchlists": list(watch.lists),
                "min_position_usdc": least,
                "suppressed_reason": verdict(evidence),
                "evidence": evidence,
            }
        )
    return rows


def _summary(
    crossing: Fill, usdc: float, count: int, tier: int, first_usdc: float, watch: Watch, least: float
) -> str:
    who = (
        f"watched wallet{' ' + repr(watch.labels[0]) if watch.labels else ''} (list {', '.join(watch.lists)})"
    )
    what = (
        f"{'bought' if crossing.side == 'BUY' else 'sold'} {crossing.outcome or 'the outcome'} at "
        f"{crossing.price:.2f}"
    )
    fills = f" in {count} fills" if count > 1 else ""
    if tier == 0:
        size = "any trade" if least <= 0 else f"positions of at least {usd(least)}"
        return f"{who} {what}: {usd(usdc)}{fills} (the list alerts on {size})"
    return f"{who} grew its position to {usd(usdc)}{fills}, {usdc / first_usdc:.1f}x the first alert ({what})"


def evaluate(log, warehouse, config, overlap=None):
    """The asset's work (insider_assets.watched_wallet_trades), callable outside a run (the stream's insider fast
    lane); `config` is the asset's Launchpad config. Returns a dg.MaterializeResult."""
    from pm_assets.signals.insider_runs import run_position_signal

    with warehouse.connect() as conn:
        # The lists as they are now (a wallet added during the run is evaluated from the next run on).
        watched = watched_wallets(conn)

    def rows_for_pairs(conn, t, fills_by_pair, wallets, markets) -> list[dict]:
        rows = []
        for (wallet, condition_id), fills in fills_by_pair.items():
            if wallet in watched:
                facts = wallets.get(wallet) or WalletFacts(wallet, None, ())
                rows += watched_rows(fills, facts, watched[wallet], markets.get(condition_id), t)
        return rows

    return run_position_signal(
        log,
        warehouse,
        TABLE,
        SIGNAL_TYPE,
        config,
        build_rows=rows_for_pairs,
        candidate=lambda pair, wallet, t: pair.wallet in watched,
        overlap=overlap,
    )


SPEC = SignalSpec(
    signal_type=SIGNAL_TYPE,
    asset=TABLE,
    thresholds=WatchedWalletThresholds,
    table=TABLE,
    label="Watched-wallet trades",
    alert_title="Watched wallet trade",
    time_column="traded_at",
    direction="side",
    aliases={"usdc": "usdc_size"},
    rule=should_fire,
    ingested=TRADE_INGESTED,
    has_token=True,
    has_wallet=True,
)
