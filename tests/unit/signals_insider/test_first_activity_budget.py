"""Wallet-age lookups under a time budget: what was found is kept, what was still running is left for later."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pm_assets.wallets.first_activity import first_activity_times

BORN = datetime(2026, 1, 1, tzinfo=UTC)


class SlowForSome:
    """A Data API session whose activity walk answers at once for most wallets and never for `stuck` ones."""

    def __init__(self, stuck: set[str]):
        self.stuck = stuck

    async def first_activity(self, wallet: str) -> tuple[datetime | None, bool]:
        if wallet in self.stuck:
            await asyncio.Event().wait()  # an upstream that does not answer
        return BORN, True


def test_a_budget_keeps_what_was_found_and_leaves_the_rest_unchecked():
    wallets = ["0xa", "0xb", "0xc", "0xd"]
    found, failed = asyncio.run(
        first_activity_times(SlowForSome({"0xb"}), wallets, concurrency=2, budget_s=0.5)  # type: ignore[arg-type]
    )
    assert sorted(w for w, _first, _checked in found) == ["0xa", "0xc", "0xd"]
    assert failed == []  # not failed: the stuck one stays unchecked and is looked up by the next refresh


def test_without_a_budget_every_lookup_finishes():
    found, failed = asyncio.run(first_activity_times(SlowForSome(set()), ["0xa", "0xb"]))  # type: ignore[arg-type]
    assert [w for w, _f, _c in found] == ["0xa", "0xb"] and failed == []
