"""Every signal's thresholds, declared once (Dagster-free, so the dashboards can validate edits).

Each signal adds one `thresholds.register(...)` block here; its `dg.Config` reads defaults through
`thresholds.default_value(signal_type, name)`. Importing this module fills the catalogue.
"""

from pm_assets.signals import thresholds
from pm_assets.signals.thresholds import Threshold

__all__ = ["thresholds", "Threshold"]

# --- market signals (arbitrage, spikes, rankings, scorecard) ---------------------------------------------------
thresholds.register(
    "arbitrage",
    Threshold(
        "arbitrage_min_edge",
        0.002,
        "USDC per set after fees at the top of the books that opens a window",
        minimum=0.0,
        maximum=0.5,
    ),
    Threshold(
        "arbitrage_reaction_s",
        2.0,
        "seconds a user needs to act; capturable dollars use the book then",
        minimum=0.0,
        maximum=3600.0,
    ),
    Threshold(
        "arbitrage_max_stake_usdc",
        1000.0,
        "most USDC one user commits to a window (capturable model)",
        minimum=1.0,
    ),
    Threshold(
        "arbitrage_ghost_extreme",
        0.01,
        "a top this close to 0 or 1 with little size is a ghost quote",
        minimum=0.0,
        maximum=0.2,
    ),
    Threshold(
        "arbitrage_ghost_min_usdc",
        25.0,
        "USDC (price × size) below which an extreme top is a ghost",
        minimum=0.0,
    ),
    Threshold(
        "arbitrage_ghost_max_deviation",
        0.15,
        "largest midpoint vs last-trade gap of a trusted book",
        minimum=0.0,
        maximum=1.0,
    ),
)
thresholds.register(
    "price_spike",
    Threshold(
        "spike_min_move_points",
        10.0,
        "price move in points (0.01 = 1 point) that fires",
        minimum=0.1,
        maximum=100.0,
    ),
    Threshold(
        "spike_window_minutes", 15, "minutes within which the move must happen", minimum=1, maximum=1440
    ),
    Threshold(
        "spike_volume_z", 4.0, "volume z-score against the market's trailing baseline that fires", minimum=0.5
    ),
    Threshold(
        "spike_baseline_hours",
        24,
        "hours of trailing buckets forming the volume baseline",
        minimum=1,
        maximum=24 * 30,
    ),
    Threshold("spike_min_volume_usdc", 500.0, "least bucket volume for a volume spike", minimum=0.0),
    Threshold(
        "spike_confirm_prints",
        1,
        "prints after the crossing that must stay a full move from the window's "
        "median price (0 = off; a single-trade wick never fires)",
        minimum=0,
        maximum=50,
    ),
    Threshold(
        "spike_move_z",
        4.0,
        "least move / the token's usual window-length move (1.4826 x median absolute "
        "change over the trailing spike_vol_hours; applied once two windows of history exist)",
        minimum=0.0,
    ),
    Threshold(
        "spike_vol_hours",
        6.0,
        "hours of the token's trailing price changes its usual move is measured over",
        minimum=0.5,
        maximum=24 * 30,
    ),
    Threshold(
        "spike_volume_min_fills",
        10,
        "least fills in a bucket for a volume spike (one whale print is none)",
        minimum=1,
    ),
    Threshold(
        "spike_volume_fills_z",
        4.0,
        "least fill-count z-score of a volume spike bucket against the trailing "
        "counts (std floored at sqrt(mean))",
        minimum=0.0,
    ),
)
thresholds.register(
    "scorecard",
    Threshold(
        "scorecard_stake_usdc", 100.0, "fixed stake of the paper trade that follows each signal", minimum=1.0
    ),
)

# --- insider signals (fresh wallets, size anomalies, clusters, labels) -----------------------------------------
# Shared noise-control names (same env var for every insider signal that uses them).
_ACCUMULATION = Threshold(
    "accumulation_window_minutes",
    120,
    "buys by one wallet in one market within this many minutes are one position (one alert)",
    minimum=1,
    maximum=7 * 24 * 60,
)
_SWEEP = Threshold(
    "sweep_entry_price",
    0.95,
    "entries at or above this price (buys >= it, sells <= 1 - it) are settlement sweeps, not insider entries",
    minimum=0.5,
    maximum=1.0,
)
_TIER_1 = Threshold(
    "escalation_tier_1",
    2.0,
    "after the first alert on a wallet and market, alert again only when "
    "the position reaches this multiple of the first alert",
    minimum=1.0,
)
_TIER_2 = Threshold("escalation_tier_2", 5.0, "second (last) escalation multiple", minimum=1.0)
_EXCLUDE = Threshold(
    "exclude_labelled_wallets",
    True,
    "suppress wallets labelled market_maker, bot or settlement_sweeper from behaviour",
)
_FRESH_AGE = Threshold(
    "fresh_max_age_hours",
    168.0,
    "a wallet is fresh while its first Polymarket activity is younger than this",
    minimum=0.0,
)
_NICHE = Threshold(
    "niche_volume_usdc", 50000.0, "a market trading less than this in 24 h is niche (thin)", minimum=0.0
)
thresholds.register(
    "fresh_wallet",
    Threshold(
        "fresh_min_usdc",
        2500.0,
        "least USDC position (summed within the accumulation window) that fires",
        minimum=0.0,
    ),
    _FRESH_AGE,
    Threshold(
        "fresh_max_prior_trades",
        0,
        "also fresh: fewer than this many earlier trades in the warehouse "
        "(0 = off; enable only where trade history covers wallets' whole life)",
        minimum=0,
    ),
    Threshold(
        "fresh_max_liquidity", 0.0, "only markets with liquidity under this (0 = every market)", minimum=0.0
    ),
    _ACCUMULATION,
    _SWEEP,
    _TIER_1,
    _TIER_2,
    _EXCLUDE,
    _NICHE,
)
thresholds.register(
    "size_anomaly",
    Threshold("size_min_usdc", 1000.0, "least USDC position that can be a size anomaly", minimum=0.0),
    Threshold(
        "size_volume_share",
        0.10,
        "position as a share of the market's 24 h volume that fires",
        minimum=0.0,
        maximum=1.0,
    ),
    Threshold(
        "size_depth_share",
        1.0,
        "largest fill as a share of the visible depth on the side it hit that fires",
        minimum=0.0,
    ),
    Threshold("niche_weight", 1.5, "anomaly score multiplier in niche markets", minimum=1.0),
    Threshold(
        "book_max_age_minutes", 60, "a book snapshot older than this before the fill is not used", minimum=1
    ),
    Threshold(
        "building_min_fills",
        6,
        "position building: at least this many fills in one direction within the accumulation window ...",
        minimum=2,
    ),
    Threshold("building_min_usdc", 750.0, "... summing to at least this many USDC ...", minimum=0.0),
    Threshold(
        "building_min_direction_share",
        0.9,
        "... with this share of the window's USDC in that one direction",
        minimum=0.5,
        maximum=1.0,
    ),
    _NICHE,
    _FRESH_AGE,
    _ACCUMULATION,
    _SWEEP,
    _TIER_1,
    _TIER_2,
    _EXCLUDE,
)
thresholds.register(
    "wallet_cluster",
    Threshold(
        "cluster_window_minutes",
        15,
        "fresh-wallet entries into one outcome this close together chain into one cluster",
        minimum=1,
        maximum=24 * 60,
    ),
    Threshold("cluster_min_wallets", 3, "distinct fresh wallets that make a cluster", minimum=2),
    Threshold("cluster_min_usdc", 500.0, "least USDC entry that counts as a member", minimum=0.0),
    _FRESH_AGE,
    _SWEEP,
    _EXCLUDE,
)
thresholds.register(
    "wallet_labels",
    Threshold(
        "label_lookback_days",
        7,
        "days of a wallet's trades its behaviour labels are computed from",
        minimum=1,
        maximum=365,
    ),
    Threshold("mm_min_trades", 200, "market maker: at least this many trades in the lookback", minimum=1),
    Threshold("mm_min_markets", 10, "market maker: in at least this many markets", minimum=1),
    Threshold(
        "mm_min_two_sided_share",
        0.5,
        "market maker: share of its markets where it traded both ways (bought and sold, or bought both outcomes)",
        minimum=0.0,
        maximum=1.0,
    ),
    Threshold(
        "mm_max_net_share",
        0.5,
        "market maker: net exposure (per market, summed) / traded USDC at most this",
        minimum=0.0,
        maximum=1.0,
    ),
    Threshold("bot_min_trades", 1000, "bot: at least this many trades in the lookback", minimum=1),
    Threshold(
        "bot_min_trades_per_day",
        500.0,
        "bot: or at least this many trades per day (over the span it traded, at least 6 h)",
        minimum=1.0,
    ),
    Threshold("sweeper_min_trades", 3, "settlement sweeper: at least this many trades ...", minimum=1),
    Threshold(
        "sweeper_min_entry_price",
        0.95,
        "... with an average entry price above this",
        minimum=0.5,
        maximum=1.0,
    ),
)
