"""The threshold validator (dashboard editor, Launchpad, override store, environment) under hostile input:
nothing but a one-line ThresholdError escapes, and whatever it accepts is finite and inside its declared range."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from pm_assets.signals import thresholds
from tests.support.payload_mutations import fuzz_settings

NAMES = sorted((s, n) for s, table in thresholds.catalogue().items() for n in table)
HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from(
        ["inf", "-Infinity", "NaN", "1e308", "1e20", "1e400", "-0", "0x10", "١٢٣", "", " ", "true"]
    ),
    st.text(max_size=40),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)


@fuzz_settings(400)
@given(st.sampled_from(NAMES), HOSTILE)
def test_validate_accepts_only_finite_values_in_range_and_refuses_in_one_line(key, raw):
    signal_type, name = key
    t = thresholds.catalogue()[signal_type][name]
    try:
        value = thresholds.validate(signal_type, name, raw)
    except thresholds.ThresholdError as exc:
        assert "\n" not in str(exc) and f"{signal_type}.{name}" in str(exc)
        return
    assert isinstance(value, t.kind)
    if t.kind is not bool:
        assert math.isfinite(value) and t.minimum <= value <= t.maximum
