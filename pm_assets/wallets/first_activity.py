"""A wallet's age from its own history: the oldest row of Data API `/v2/activity`.

Not the first time pm-intel saw the wallet (that is only when ingestion happened to start). Looked up lazily
for the wallets a signal can care about, and cached in `wallets.first_activity_at` /
`first_activity_checked_at`, so each wallet costs its activity walk once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from pm_assets.resources.data_api import DataApiSession
from pm_assets.resources.http import ApiError, gather_bounded


async def first_activity_times(
    session: DataApiSession, wallets: Sequence[str], concurrency: int = 4, budget_s: float | None = None
) -> tuple[list[tuple[str, datetime | None, datetime]], list[str]]:
    """(rows for `wallets.first_activity_*`, wallets whose lookup failed and stay unchecked). With `budget_s`,
    the lookups still running when it runs out are dropped, neither found nor failed: they stay unchecked for
    the next refresh, and what was found is kept."""
    found: list[tuple[str, datetime | None, datetime]] = []
    failed: list[str] = []

    async def one(wallet: str) -> None:
        try:
            first, _whole = await session.first_activity(wallet)
        except ApiError:
            failed.append(wallet)  # retried on the next run: checked_at stays null
            return
        found.append((wallet, first, datetime.now(UTC)))

    lookups = gather_bounded([lambda w=w: one(w) for w in wallets], concurrency)
    try:
        await asyncio.wait_for(lookups, budget_s)
    except TimeoutError:
        pass  # the rest waits for the next refresh
    return found, failed
