import json

import pytest

from pm_assets.markets.fees import fee_schedule_row, taker_fee, taker_fee_per_share
from tests.conftest import FIXTURES_DIR

GAMMA = json.loads((FIXTURES_DIR / "gamma_market_2026-06-14.json").read_text())
WS_SCHEDULE = {"exponent": "2", "rate": "0.02", "taker_only": True, "rebate_rate": "0"}


def test_gamma_fixture_schedule_at_several_prices():
    schedule = GAMMA["feeSchedule"]  # rate 0.04, exponent 1
    assert taker_fee(100, 0.5, schedule) == pytest.approx(1.0)  # 100 * 0.04 * 0.25
    assert taker_fee(100, 0.1, schedule) == pytest.approx(0.36)  # 100 * 0.04 * 0.09
    assert taker_fee(10, 0.99, schedule) == pytest.approx(0.00396)
    assert taker_fee(100, 0.0, schedule) == 0.0
    assert taker_fee(100, 1.0, schedule) == 0.0


def test_websocket_string_schedule_with_exponent_two():
    # 1000 * 0.02 * (0.3 * 0.7)^2 = 0.882
    assert taker_fee(1000, 0.3, WS_SCHEDULE) == pytest.approx(0.882)


def test_fee_is_floored_to_five_decimals():
    # 1 * 0.04 * 0.0099 = 0.000396 -> 0.00039 (floor, not round)
    assert taker_fee(1, 0.01, {"rate": 0.04, "exponent": 1}) == pytest.approx(0.00039)
    assert taker_fee(1, 0.5, {"rate": 0.0000399, "exponent": 1}) == 0.0


def test_no_schedule_or_fees_disabled_means_no_fee():
    assert taker_fee(100, 0.5, None) == 0.0
    assert taker_fee(100, 0.5, {}) == 0.0
    assert taker_fee(100, 0.5, GAMMA["feeSchedule"], fees_enabled=False) == 0.0
    assert taker_fee_per_share(0.5, GAMMA["feeSchedule"], fees_enabled=False) == 0.0


def test_stored_form_is_the_same_for_both_spellings():
    gamma = fee_schedule_row({"exponent": 2, "rate": 0.02, "takerOnly": True, "rebateRate": 0})
    assert gamma == fee_schedule_row(WS_SCHEDULE)
    assert taker_fee(50, 0.4, gamma) == taker_fee(50, 0.4, WS_SCHEDULE)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        taker_fee(1, 1.5, GAMMA["feeSchedule"])
    with pytest.raises(ValueError):
        taker_fee(1, 0.5, {"rate": "nan", "exponent": 1})
