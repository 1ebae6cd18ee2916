"""Rule filters: validation (what the dashboard saves) and matching (what the sensor applies)."""

from __future__ import annotations

import math

import pytest

from pm_sensors.alerts.filters import AlertFilterError, filters_match, validate_filters
from pm_sensors.alerts.sources import signal_types, source_for

MARKET = "0x" + "ab" * 32
ROW = {
    "usdc_size": 48_200.0,
    "risk_score": 0.8,
    "condition_id": MARKET,
    "evidence": {"summary": "wallet first active 3 h before this $48,200 buy of YES at 0.12"},
}
FRESH = source_for("fresh_wallet")


def matches(filters, row=ROW, source=FRESH):
    return filters_match(validate_filters(source.signal_type, filters), row, source)


def test_numeric_minimums_and_maximums_by_column_or_alias():
    assert matches({"min_usdc": 40_000}) and matches({"min_usdc_size": 48_200})
    assert not matches({"min_usdc": 50_000})
    assert matches({"min_score": 0.5, "max_score": 0.9}) and not matches({"max_risk_score": 0.5})
    arb = source_for("arbitrage")
    assert matches({"min_edge": 0.02}, {"peak_edge": 0.03}, arb) and not matches(
        {"min_edge": 0.05}, {"peak_edge": 0.03}, arb
    )


def test_missing_null_or_nan_values_do_not_match_numeric_filters():
    assert not matches({"min_usdc": 1}, {**ROW, "usdc_size": None})
    assert not matches({"min_usdc": 1}, {**ROW, "usdc_size": math.nan})
    assert not matches({"min_wallet_age_hours": 1})


def test_condition_ids_and_summary_contains():
    assert matches({"condition_ids": [MARKET.upper().replace("0X", "0x")]})
    assert not matches({"condition_ids": ["0x" + "cd" * 32]})
    assert matches({"summary_contains": "buy of yes"}) and not matches({"summary_contains": "buy of NO"})
    assert matches({})


@pytest.mark.parametrize(
    ("filters", "word"),
    [
        ({"min_usdc": "lots"}, "finite number"),
        ({"min_usdc": True}, "finite number"),
        ({"min_usdc": float("inf")}, "finite number"),
        ({"min_Bad-Name": 1}, "column name"),
        ({"condition_ids": []}, "non-empty list"),
        ({"condition_ids": ["0x1234"]}, "66-character"),
        ({"summary_contains": ""}, "non-empty text"),
        ({"colour": "red"}, "unknown filter"),
        ([1, 2], "JSON object"),
    ],
)
def test_invalid_filters_are_rejected_with_the_key_named(filters, word):
    with pytest.raises(AlertFilterError, match=word):
        validate_filters("fresh_wallet", filters)


def test_signal_types_include_every_source_and_system():
    types = signal_types()
    assert {"fresh_wallet", "arbitrage", "price_spike", "size_anomaly", "wallet_cluster", "system"} <= set(
        types
    )
    assert source_for("fresh_wallet_trades") is FRESH  # table names are accepted as synonyms
    with pytest.raises(AlertFilterError, match="unknown signal type"):
        validate_filters("nonsense", {"min_usdc": 1})
