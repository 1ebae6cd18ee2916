"""HTTP calls a test makes to its own loopback servers (pm_sim, the webhook receiver, the Dagster UI).

httpx's default 5 s timeout is a wall-clock limit: pm_sim renders a first Gamma page or a fault scenario in
well under a second alone, and in 6-13 s on a machine whose cores are busy with other tests. These wrappers
bound a call by a hang limit instead, so a slow answer is waited for and only a hung server fails the test.
A test that means to time out passes its own `timeout=`.
"""

from __future__ import annotations

from typing import Any

import httpx

HANG_S = 120.0


def get(url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("timeout", HANG_S)
    return httpx.get(url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("timeout", HANG_S)
    return httpx.post(url, **kwargs)
