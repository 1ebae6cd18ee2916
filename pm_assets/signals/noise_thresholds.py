"""Thresholds several insider signals share (one declaration each; a signal's set inherits the ones it uses).

A shared threshold is one name in the override store per signal: saving fresh_wallet.fresh_max_age_hours does
not change size_anomaly.fresh_max_age_hours.
"""

from pm_assets.signals.spec import ThresholdSet, threshold


class FreshAge(ThresholdSet):
    fresh_max_age_hours: float = threshold(
        168.0,
        "a wallet is fresh while its first Polymarket activity is younger than this",
        ge=0.0,
        le=24 * 365 * 10,
    )


class Niche(ThresholdSet):
    niche_volume_usdc: float = threshold(
        50000.0, "a market trading less than this in 24 h is niche (thin)", ge=0.0, le=1e10
    )


class Sweep(ThresholdSet):
    sweep_entry_price: float = threshold(
        0.95,
        "buys at or above this average price are settlement sweeps, not insider entries (sells are exits)",
        ge=0.5,
        le=1.0,
    )


class ExcludeLabelled(ThresholdSet):
    exclude_labelled_wallets: bool = threshold(
        True, "suppress wallets labelled market_maker, bot or settlement_sweeper from behaviour"
    )


class PositionNoise(Sweep, ExcludeLabelled):
    """One alert per wallet and market, built from its split buys, then escalations only."""

    accumulation_window_minutes: int = threshold(
        120,
        "buys by one wallet in one market within this many minutes are one position (one alert)",
        ge=1,
        le=7 * 24 * 60,
    )
    escalation_tier_1: float = threshold(
        2.0,
        "after the first alert on a wallet and market, alert again only when "
        "the position reaches this multiple of the first alert",
        ge=1.0,
        le=1000.0,
    )
    escalation_tier_2: float = threshold(5.0, "second (last) escalation multiple", ge=1.0, le=1000.0)


class LateFavourite(ThresholdSet):
    """Time to resolution: the favourite bought in the last hours before the end date is no insider signal."""

    favourite_min_price: float = threshold(
        0.8,
        "an entry at or above this price (it pays (1 - p) / p, 0.25x at 0.8) is a bet on the favourite ...",
        ge=0.5,
        le=1.0,
    )
    favourite_final_hours: float = threshold(
        12.0,
        "... and within this many hours of the market's end date it is an ordinary bet on the likely winner, "
        "kept as favourite_near_resolution, never alerted",
        ge=0.0,
        le=24.0 * 30,
    )
