"""The status page in headless Chromium: red, with the reason in words, while a part is down."""

from __future__ import annotations

import psycopg
import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_dashboards_browser import _settled

pytestmark = pytest.mark.browser


def test_status_page_is_red_with_the_reason_while_the_stream_consumer_is_down(page, app_url, browser_world):
    with psycopg.connect(browser_world.url) as conn:
        conn.execute("delete from heartbeats where part = 'stream_consumer'")
        conn.execute(
            "insert into heartbeats (part, last_beat_at) values ('stream_consumer', now() - interval '7 minutes')"
        )
    page.goto(f"{app_url}/status")
    banner = page.get_by_test_id("stMarkdown").filter(has_text="RED").first
    banner.wait_for()
    page.get_by_text("stream_consumer silent for").first.wait_for()
    _settled(page)
    reason = page.get_by_text("stream_consumer silent for").first.inner_text()
    assert "threshold 30 s" in reason
    colour = page.locator("[data-testid='pm-status']").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert colour == "rgb(207, 34, 46)"
    screenshot(page, "status_red")
