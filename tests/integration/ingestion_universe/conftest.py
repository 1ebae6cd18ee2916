"""Universe ingestion fixtures."""

from __future__ import annotations

import pytest

from tests.support.universe import table_rows


@pytest.fixture
def universe_snapshot():
    def snapshot(url: str) -> dict[str, list[tuple]]:
        return {
            "events": table_rows(url, "select * from events order by event_id"),
            "markets": table_rows(url, "select * from markets order by condition_id"),
            "tokens": table_rows(url, "select * from tokens order by token_id"),
        }

    return snapshot
