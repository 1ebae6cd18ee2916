"""A threshold edit in headless Chromium: backtested side by side, saved, and the next signal run uses it."""

from __future__ import annotations

import psycopg
import pytest

from pm_assets.signals import spikes, thresholds
from pm_assets.signals.backtest import backtest
from tests.browser.conftest import screenshot
from tests.browser.test_dashboards_browser import _metric, _settled

pytestmark = pytest.mark.browser

KEY = "price_spike.spike_min_move_points"


def _next_spike_config(url: str) -> dict:
    """What the next price_spikes evaluation uses: the live run's market-signals round
    (pm_sensors/live/periodic.market_signals) resolves the saved values at each round, as a launched run does."""
    with psycopg.connect(url) as conn:
        return thresholds.saved_values(conn, spikes.SPEC.signal_type)


def test_edit_a_threshold_backtest_save_and_the_next_run_uses_it(page, app_url, browser_world):
    assert _next_spike_config(browser_world.url)["spike_min_move_points"] == 10.0
    page.goto(f"{app_url}/alerts")
    page.get_by_text("Signal thresholds").wait_for()
    _settled(page)
    form = page.get_by_test_id("stForm").filter(has_text="Backtest over the last N days")
    form.get_by_test_id("stSelectbox").filter(has_text="Threshold").click()
    page.keyboard.type(KEY)
    page.get_by_role("option", name=KEY).click()
    form.get_by_label("New value").fill("5")
    form.get_by_role("button", name="Backtest").click()
    page.get_by_text("Backtest of price_spike, last 7 days").wait_for()
    _settled(page)

    with psycopg.connect(browser_world.url) as conn:
        assert (
            conn.execute(
                "select count(*) from threshold_overrides where signal_type = 'price_spike'"
            ).fetchone()[0]
            == 0
        ), "a backtest saves nothing"
        direct = backtest(conn, "price_spike", {}, {"spike_min_move_points": 5.0}, 7)
    assert direct["proposed"]["alerts"] > direct["current"]["alerts"] > 0
    for side in ("current", "proposed"):
        assert _metric(page, f"Alerts ({side})") == f"{direct[side]['alerts']:,}"
        assert _metric(page, f"Markets ({side})") == f"{direct[side]['markets']:,}"
        page.get_by_text(direct[side]["headline"]).first.wait_for()
    page.get_by_test_id("stDataFrame").last.scroll_into_view_if_needed()
    screenshot(page, "threshold_backtest")

    form.get_by_role("button", name="Save override").click()
    page.get_by_text(f"{KEY} is now 5.0; the next run of price_spike uses it.").wait_for()
    _settled(page)
    with psycopg.connect(browser_world.url) as conn:
        stored = conn.execute(
            "select value, updated_by from threshold_overrides"
            " where signal_type = 'price_spike' and name = 'spike_min_move_points'"
        ).fetchone()
    assert stored == (5.0, "dashboard")
    assert _next_spike_config(browser_world.url)["spike_min_move_points"] == 5.0
    screenshot(page, "threshold_saved")
