"""The universe crawl: every Gamma keyset listing (open and closed, v1 and v2) written page by page.

`closed` defaults to false upstream and an omitted `version` may mean v1 only (polymarket-api.md §1.1, L.1),
so the four (closed, version) listings are crawled explicitly and concurrently, and what each returned is
counted. Each page is written (and committed) by the caller's `write` callback as it arrives, so memory stays
flat and a killed run keeps whole pages only; re-running upserts the same rows in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pm_assets.resources.gamma import GENERATIONS, KeysetPage

PageSource = Callable[..., AsyncIterator[KeysetPage[Any]]]


@dataclass
class CrawlReport:
    pages: int = 0
    fetched: int = 0
    rejected: int = 0
    per_listing: dict[str, int] = field(default_factory=dict)
    # Items whose own `version` differs from the one asked for (an upstream that ignores the filter).
    generation_mismatches: int = 0

    def listing_metadata(self, noun: str) -> dict[str, int]:
        return {f"{noun}_{key}": value for key, value in sorted(self.per_listing.items())}


def _generation_of(item: Any) -> str | None:
    return getattr(item, "generation", None)


async def crawl_listings(source: PageSource, write: Callable[[KeysetPage[Any]], None]) -> CrawlReport:
    """Crawl `source(closed=..., version=...)` for all four listings; hand every page to `write`."""
    report = CrawlReport()

    async def one(closed: bool, version: str) -> None:
        key = f"{version}_{'closed' if closed else 'open'}"
        report.per_listing.setdefault(key, 0)
        async for page in source(closed=closed, version=version):
            report.pages += 1
            report.fetched += len(page.items)
            report.rejected += page.rejected
            report.per_listing[key] += len(page.items)
            report.generation_mismatches += sum(
                1 for item in page.items if _generation_of(item) not in (None, version)
            )
            write(page)

    await asyncio.gather(*(one(closed, version) for closed in (False, True) for version in GENERATIONS))
    return report
