"""Composite risk: documented weights, components in [0, 1], and the reason a person reads."""

from __future__ import annotations

import pytest

from pm_assets.signals.risk import (
    WEIGHTS,
    RiskFacts,
    position_risk,
    risk_components,
    risk_score,
    risk_summary,
)


def test_weights_sum_to_one_and_a_maximal_position_scores_100():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    facts = RiskFacts(
        wallet_age_hours=0, volume_share=0.5, depth_share=3, niche=True, cluster_wallets=3, payoff=9.0
    )
    assert risk_score(risk_components(facts)) == 100.0


def test_reason_names_what_contributed():
    summary = risk_summary(
        RiskFacts(wallet_age_hours=3, fresh_max_age_hours=168, volume_share=0.08, niche=True)
    )
    assert summary["reason"] == "fresh wallet + 8.0% of daily volume + niche market"
    assert summary["score"] == pytest.approx(100 * (0.30 * (1 - 3 / 168) + 0.20 * 0.8 + 0.05), abs=0.1)
    assert risk_summary(RiskFacts())["reason"] == "no risk factor"


def test_the_payoff_an_entry_buys_weighs_in_and_is_named():
    longshot = risk_summary(RiskFacts(wallet_age_hours=3, payoff=(1 - 0.08) / 0.08))
    favourite = risk_summary(RiskFacts(wallet_age_hours=3, payoff=(1 - 0.88) / 0.88))
    assert longshot["components"]["payoff"] == 1.0 and favourite["components"]["payoff"] < 0.05
    assert longshot["score"] - favourite["score"] > 14
    assert longshot["reason"] == "fresh wallet + pays 11.5x if right"
    assert favourite["reason"] == "fresh wallet"


def test_position_risk_combines_signals_and_keeps_the_alert_state():
    fresh = (
        "fresh",
        None,
        {
            "inputs": {"wallet_age_hours": 2.0, "volume_share": 0.02, "niche": False},
            "thresholds": {"fresh_max_age_hours": 168.0},
        },
    )
    size = (
        "size",
        "market_maker",
        {
            "inputs": {"wallet_age_hours": 2.0, "volume_share": 0.09, "depth_share": 1.2, "niche": True},
            "thresholds": {"fresh_max_age_hours": 168.0},
        },
    )
    cluster = ("cluster", None, {"wallet_count": 4, "inputs": {"wallet_age_hours": 1.5}})
    facts, suppressed = position_risk([fresh, size, cluster], 168.0)
    assert (
        facts.wallet_age_hours,
        facts.volume_share,
        facts.depth_share,
        facts.niche,
        facts.cluster_wallets,
    ) == (1.5, 0.09, 1.2, True, 4)
    assert suppressed is None
    assert position_risk([size], 168.0)[1] == "market_maker"
