"""The against_favourite rule option over real fresh-wallet evidence: underdog entries shortly before the end
date match; favourite buys, sweeps, early entries, small ones and markets without an end date do not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pm_assets.signals import thresholds
from pm_assets.signals.fresh_wallets import fresh_wallet_rows
from pm_assets.signals.insider_inputs import MarketFacts, WalletFacts
from pm_assets.signals.positions import Fill
from pm_sensors.alerts.filters import AlertFilterError, filters_match, known_filters, validate_filters
from pm_sensors.alerts.sources import source_for
from tests.support.insider import T0, condition, wallet_address

DEFAULTS = {name: th.default for name, th in thresholds.catalogue()["fresh_wallet"].items()}
FRESH = source_for("fresh_wallet")
W, C = wallet_address(8), condition(2)


def _row(usdc: float, price: float, hours_before_end: float | None) -> dict:
    end = None if hours_before_end is None else T0 + timedelta(hours=hours_before_end)
    fill = Fill("f1", T0, W, C, "1000", "BUY", price, usdc / price, "Yes")
    [row] = fresh_wallet_rows(
        [fill],
        WalletFacts(W, T0 - timedelta(hours=2), ()),
        MarketFacts(C, 20_000, 200_000.0, "q?", end),
        dict(DEFAULTS),
        volume_at=lambda at: 200_000.0,
    )
    return row


def _alerted(row: dict, option) -> bool:
    """What delivery does: only alert-worthy rows reach the rule's filters."""
    filters = validate_filters("fresh_wallet", {"against_favourite": option})
    return row["suppressed_reason"] is None and filters_match(filters, row, FRESH)


def test_underdog_entry_hours_before_the_end_matches():
    assert _alerted(_row(20_000, 0.15, 6), True)
    assert _alerted(_row(20_000, 0.30, 20), {"within_hours": 24, "max_entry_price": 0.35, "min_usdc": 10_000})


@pytest.mark.parametrize(
    ("usdc", "price", "hours", "why"),
    [
        (20_000, 0.15, 200, "entered long before the end date"),
        (
            20_000,
            0.85,
            6,
            "a buy of the favourite (kept suppressed by the signal, and above max_entry_price)",
        ),
        (20_000, 0.97, 2, "a settlement sweep"),
        (3_000, 0.15, 6, "too small for min_usdc"),
        (20_000, 0.15, None, "no end date known"),
        (20_000, 0.15, -2, "traded after the end date"),
    ],
)
def test_what_is_not_it(usdc, price, hours, why):
    assert not _alerted(_row(usdc, price, hours), True), why


@pytest.mark.parametrize(
    ("option", "word"),
    [
        ({"within_hours": 0}, "between 0.25 and 720"),
        ({"max_entry_price": 0.8}, "between 0.01 and 0.5"),
        ({"min_usdc": float("nan")}, "finite number"),
        ({"hours": 3}, "unknown field"),
        ("soon", "must be an object"),
    ],
)
def test_bad_options_are_refused_with_their_range(option, word):
    with pytest.raises(AlertFilterError, match=word):
        validate_filters("fresh_wallet", {"against_favourite": option})


def test_only_position_signals_offer_it():
    assert "against_favourite" in known_filters("size_anomaly", [])
    assert "against_favourite" not in known_filters("arbitrage", [])
    with pytest.raises(AlertFilterError, match="position signals"):
        validate_filters("arbitrage", {"against_favourite": True})
    clean = validate_filters("fresh_wallet", {"against_favourite": {"within_hours": 6}})
    assert clean["against_favourite"] == {"within_hours": 6.0, "max_entry_price": 0.35, "min_usdc": 5000.0}
