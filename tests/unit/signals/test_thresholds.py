import pytest

from pm_assets.signals import thresholds
from pm_assets.signals.spec import ThresholdSet, threshold
from pm_assets.signals.thresholds import ThresholdError


class ExampleThresholds(ThresholdSet):
    example_min_usdc: float = threshold(5000.0, "smallest trade", ge=0, le=1e9)
    example_probability: float = threshold(0.95, "a price", ge=0, le=1)
    example_count: int = threshold(3, "a count", ge=1, le=1000)
    example_flag: bool = threshold(True, "a switch")


thresholds.register("example_signal", ExampleThresholds)


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


@pytest.mark.parametrize("raw", ["inf", "Infinity", "-inf", "NaN", "nan", 1e308, 1e20, float("inf"), "1e400"])
def test_non_finite_and_huge_values_are_refused_in_one_line(raw):
    for name in ("example_min_usdc", "example_count"):
        with pytest.raises(ThresholdError) as refused:
            thresholds.validate("example_signal", name, raw)
        assert "\n" not in str(refused.value) and f"example_signal.{name}" in str(refused.value)


def test_values_are_coerced_to_the_declared_type():
    assert thresholds.validate("example_signal", "example_min_usdc", "2500") == 2500.0
    assert thresholds.validate("example_signal", "example_count", "4") == 4
    assert thresholds.validate("example_signal", "example_flag", "off") is False


def test_environment_defaults_override_documented_defaults():
    env = {"PM_INTEL_EXAMPLE_MIN_USDC": "10000"}
    assert thresholds.default_value("example_signal", "example_min_usdc", env) == 10000.0
    assert thresholds.default_value("example_signal", "example_min_usdc", {}) == 5000.0
    with pytest.raises(ThresholdError, match="PM_INTEL_EXAMPLE_MIN_USDC"):
        thresholds.default_value("example_signal", "example_min_usdc", {"PM_INTEL_EXAMPLE_MIN_USDC": "-5"})


def test_every_declared_threshold_has_a_finite_range_and_a_meaning():
    for signal_type, table in thresholds.catalogue().items():
        for name, t in table.items():
            assert t.doc, f"{signal_type}.{name} has no description"
            if t.kind is bool:
                continue
            assert t.minimum is not None and t.maximum is not None, f"{signal_type}.{name} has an open range"
            assert t.minimum <= t.default <= t.maximum, f"{signal_type}.{name}'s default is outside its range"
            for raw in (float("inf"), 1e308, 1e20, float("nan")):
                with pytest.raises(ThresholdError):
                    thresholds.validate(signal_type, name, raw)
