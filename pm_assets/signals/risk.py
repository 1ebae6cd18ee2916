"""Composite risk score: one number and one sentence per trade and per wallet from every insider signal.

Each component is in [0, 1]; the score is 100 x the weighted sum, so 100 means every component at its maximum.

| component     | weight | 1.0 means                                                     |
|---------------|--------|---------------------------------------------------------------|
| fresh_wallet  | 0.35   | wallet first active just now (falls linearly to 0 at the fresh age limit) |
| volume_share  | 0.25   | the position is >= 10% of the market's 24 h volume            |
| cluster       | 0.20   | entered together with other fresh wallets (a wallet_clusters row) |
| book_depth    | 0.10   | the largest fill took >= 2x the visible depth on its side     |
| niche_market  | 0.10   | the market trades less than niche_volume_usdc a day           |

The reason names the components that contributed ("fresh wallet + 8% of daily volume + niche market").
Pure functions here; the asset that fills trade_risk_scores / wallet_risk_scores is in risk_assets.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

WEIGHTS: Mapping[str, float] = {
    "fresh_wallet": 0.35,
    "volume_share": 0.25,
    "cluster": 0.20,
    "book_depth": 0.10,
    "niche_market": 0.10,
}
FULL_VOLUME_SHARE = 0.10
FULL_DEPTH_SHARE = 2.0


@dataclass(frozen=True)
class RiskFacts:
    """What is known about one position when its risk is scored (None = unknown, contributes nothing)."""

    wallet_age_hours: float | None = None
    fresh_max_age_hours: float = 168.0
    volume_share: float | None = None
    depth_share: float | None = None
    niche: bool = False
    cluster_wallets: int = 0


def risk_components(facts: RiskFacts) -> dict[str, float]:
    fresh = 0.0
    if facts.wallet_age_hours is not None and facts.fresh_max_age_hours > 0:
        fresh = max(0.0, 1.0 - facts.wallet_age_hours / facts.fresh_max_age_hours)
    return {
        "fresh_wallet": round(min(1.0, fresh), 4),
        "volume_share": round(min(1.0, (facts.volume_share or 0.0) / FULL_VOLUME_SHARE), 4),
        "cluster": 1.0 if facts.cluster_wallets >= 2 else 0.0,
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
