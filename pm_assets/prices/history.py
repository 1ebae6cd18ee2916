"""Pure conversion of CLOB price history into `price_points` rows, and the day window of a partition."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from pm_assets.prices.models import PricePoint

POINT_COLUMNS = ("token_id", "ts", "price", "source")
SOURCE = "clob"


def day_window(partition_key: str) -> tuple[datetime, datetime]:
    """[start, end) of a daily partition key `YYYY-MM-DD`, in UTC."""
    start = datetime.strptime(partition_key, "%Y-%m-%d").replace(tzinfo=UTC)
    return start, start + timedelta(days=1)


def point_rows(histories: Mapping[str, Iterable[PricePoint]]) -> list[tuple]:
    return [
        (token_id, datetime.fromtimestamp(point.t, UTC), point.p, SOURCE)
        for token_id, points in histories.items()
        for point in points
    ]
