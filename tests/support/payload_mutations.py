"""Hostile upstream input for the fuzz tests: real recorded payloads with fields mutated.

Each generated row starts from a fixture (so it is one mutation away from valid, where the bugs live) and has
one to three fields replaced by a hostile value (NaN, inf, huge or negative numbers, wrong types, Unicode
digits, nulls inside arrays, overlong strings, control characters, a planted credential-bearing URL) or
removed. `FUZZ_SCALE` (env `PM_INTEL_FUZZ_SCALE`, default 1) multiplies every test's example count for a
deeper local run; CI runs the counts written beside each test, derandomized so a run never fails by chance.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES_DIR

FUZZ_SCALE = max(1, int(os.environ.get("PM_INTEL_FUZZ_SCALE", "1")))
PLANTED_SECRET = "s3cr3t-fuzz-pw"
PLANTED_URL = f"postgresql://pm_intel:{PLANTED_SECRET}@db.internal:5432/warehouse"


def fuzz_settings(examples: int) -> settings:
    """`examples` per run in CI (derandomized: the same cases every run); more with PM_INTEL_FUZZ_SCALE."""
    return settings(
        max_examples=examples * FUZZ_SCALE,
        derandomize=FUZZ_SCALE == 1,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def fixture(name: str) -> Any:
    return json.loads((FIXTURES_DIR / name).read_text())


UNICODE_DIGITS = ["١٢٣", "٠.٥", "７", "१२३", "߁", "𝟏𝟐", "²"]

hostile_scalars = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e400",
        "-1e400",
        1e20,
        -1e20,
        1e308,
        10**30,
        -(10**30),
        2**31,
        2**63,
        2**64,
        -1,
        -0.0001,
        1.5,
        0,
        "",
        " ",
        "\x00",
        "1\x00",
        "0x",
        "0X" + "A" * 64,
        "9" * 79,
        "9" * 5000,
        "x" * 20_000,
        "1_000",
        "0.5\n",
        "line\nbreak",
        True,
        False,
        None,
        [],
        [None],
        {},
        {"nested": [1, {"deeper": None}]},
        PLANTED_URL,
        f"https://alerts:{PLANTED_SECRET}@hooks.example/x",
        *UNICODE_DIGITS,
    ]
)
hostile = st.one_of(
    hostile_scalars,  # listed three times: the known-bad values are drawn about half the time
    hostile_scalars,
    hostile_scalars,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=50),
    st.lists(st.one_of(st.none(), hostile_scalars), max_size=4),
)

_DELETE = object()


@st.composite
def mutated(draw: st.DrawFn, base: dict, keys: list[str] | None = None) -> dict:
    """`base` with one to three of `keys` (default: all) replaced by hostile values or removed."""
    row = json.loads(json.dumps(base))
    candidates = keys or list(row)
    for key in draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True)):
        value = draw(st.one_of(st.just(_DELETE), hostile))
        if value is _DELETE:
            row.pop(key, None)
        else:
            row[key] = copy.deepcopy(value)  # sampled lists and dicts are shared between examples
    return row


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every formatted log line, of every logger and level, while inside the block."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def assert_nothing_unmasked(lines: list[str]) -> None:
    leaked = [line for line in lines if PLANTED_SECRET in line]
    assert not leaked, f"a planted credential reached a log line: {leaked[0][:300]}"
