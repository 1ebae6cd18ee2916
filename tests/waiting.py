"""Waiting in tests: on a condition, with a bound on a hang only.

The bound (minutes) never stands for how long the awaited thing normally takes, so a busy machine makes a test
slower, never red. A fixed count of short polls is a wall clock in disguise: use `wait_for` instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

HANG_S = 120.0


def wait_for(
    predicate: Callable[[], T],
    what: str,
    *,
    step: Callable[[], object] | None = None,
    pause_s: float = 0.05,
    hang_s: float = HANG_S,
    context: Callable[[], object] | None = None,
) -> T:
    """Return predicate()'s first truthy value, running `step` between polls; fail only after `hang_s` seconds
    without it (a hang), saying what was awaited and, when given, `context()` at that moment."""
    deadline = time.monotonic() + hang_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"; {context()}" if context is not None else ""
            raise AssertionError(f"gave up waiting for: {what} (nothing in {hang_s:.0f} s){detail}")
        if step is not None:
            step()
        time.sleep(pause_s)
