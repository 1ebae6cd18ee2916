import pytest

from pm_assets.signals import thresholds
from pm_assets.signals.thresholds import Threshold, ThresholdError

thresholds.register(
    "example_signal",
    Threshold("example_min_usdc", 5000.0, "smallest trade", minimum=0),
    Threshold("example_probability", 0.95, "a price", minimum=0, maximum=1),
    Threshold("example_count", 3, "a count", minimum=1),
    Threshold("example_flag", True, "a switch"),
)


def test_validation_refuses_out_of_range_values_with_the_rule_in_the_message():
    with pytest.raises(ThresholdError, match=r"example_signal.example_min_usdc must be at least 0"):
        thresholds.validate("example_signal", "example_min_usdc", -1)
    with pytest.raises(ThresholdError, match="at most 1"):
        thresholds.validate("example_signal", "example_probability", "1.5")
    with pytest.raises(ThresholdError, match="must be a int"):
        thresholds.validate("example_signal", "example_count", 2.5)
    with pytest.raises(ThresholdError, match="no threshold"):
        thresholds.validate("example_signal", "nope", 1)
    with pytest.raises(ThresholdError, match="must be a float"):
        thresholds.validate("example_signal", "example_min_usdc", "1; drop table trades")


def test_values_are_coerced_to_the_declared_type():
    assert thresholds.validate("example_signal", "example_min_usdc", "2500") == 2500.0
    assert thresholds.validate("example_signal", "example_count", "4") == 4
    assert thresholds.validate("example_signal", "example_flag", "off") is False


def test_environment_defaults_override_documented_defaults():
    env = {"PM_INTEL_EXAMPLE_MIN_USDC": "10000"}
    assert thresholds.default_value("example_signal", "example_min_usdc", env) == 10000.0
    assert thresholds.default_value("example_signal", "example_min_usdc", {}) == 5000.0
    with pytest.raises(ThresholdError):
        thresholds.default_value("example_signal", "example_min_usdc", {"PM_INTEL_EXAMPLE_MIN_USDC": "-5"})
