"""Issue 18 in headless Chromium: two rules split by tag each get only their category's planted signal at a
local webhook receiver; the nearing-resolution page lists the planted markets in order."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import psycopg
import pytest
from PIL import Image

from pm_sensors.alerts.delivery import AlertDeliverer, DeliverySettings
from pm_sensors.alerts.receiver import running_receiver
from tests.browser.conftest import screenshot
from tests.browser.test_dashboards_browser import _metric, _settled
from tests.support.alerts import add_fresh_wallet
from tests.support.resolution_seed import EXPECTED_ORDER, PLANTED, plant, plant_signal

pytestmark = pytest.mark.browser

SPORTS_MARKET = "champions-final-home"  # seed world: event 9002, tagged Sports
POLITICS_MARKET = "senate-democrats"  # seed world: event 9001, tagged Politics and Elections


@pytest.fixture(scope="module")
def app_extra_env() -> dict[str, str]:
    return {"PM_INTEL_ALLOW_PRIVATE_WEBHOOKS": "1"}  # the rules post to a receiver on 127.0.0.1


@pytest.fixture(scope="module")
def receiver():
    with running_receiver() as r:
        yield r


def _looked_at(path) -> None:
    """The screenshot shows a rendered page: not blank, not one flat colour."""
    with Image.open(path) as image:
        colours = image.convert("RGB").resize((140, 220)).getcolors(maxcolors=140 * 220)
    assert colours is not None and len(colours) > 20, f"{path} looks blank"


def _create_rule(page, app_url, name: str, url: str, tag: str) -> None:
    page.goto(f"{app_url}/alerts")
    page.get_by_text("Delivery history").wait_for()
    _settled(page)
    form = page.get_by_test_id("stForm").first
    form.get_by_label("Name").fill(name)
    form.get_by_test_id("stSelectbox").filter(has_text="Destination").click()
    page.get_by_role("option", name="json", exact=True).click()
    form.get_by_label(re.compile("^Webhook URL")).fill(url)
    form.get_by_test_id("stMultiSelect").filter(has_text="Only signals tagged").click()
    page.get_by_role("option", name=tag, exact=True).click()
    page.keyboard.press("Escape")
    form.get_by_role("button", name="Save rule").click()
    page.get_by_text(f"Saved rule '{name}'.").wait_for()
    _settled(page)


def test_two_rules_split_by_tag_each_get_only_their_signal(page, app_url, browser_world, receiver):
    _create_rule(page, app_url, "Sports desk", receiver.url("/sports"), "Sports")
    _create_rule(page, app_url, "Politics desk", receiver.url("/politics"), "Politics")
    with psycopg.connect(browser_world.url, autocommit=True) as conn:
        stored = dict(
            conn.execute(
                "select name, filters from alert_rules where name in ('Sports desk', 'Politics desk')"
            ).fetchall()
        )
        assert stored == {"Sports desk": {"tags": ["sports"]}, "Politics desk": {"tags": ["politics"]}}
        # The seed world's own rules post to public addresses: off, so nothing here leaves the loopback.
        conn.execute(
            "update alert_rules set enabled = false where name not in ('Sports desk', 'Politics desk')"
        )
        now = datetime.now(UTC)
        sports = add_fresh_wallet(conn, 9101, market=browser_world.markets[SPORTS_MARKET], detected_at=now)
        politics = add_fresh_wallet(
            conn, 9102, market=browser_world.markets[POLITICS_MARKET], detected_at=now
        )
    deliverer = AlertDeliverer(
        lambda: psycopg.connect(browser_world.url, autocommit=True), DeliverySettings(allow_private=True)
    )
    deliverer.tick(None)
    receiver.wait_for(2, timeout_s=120)
    sent = {
        path: [r.body["signal_key"] for r in receiver.delivered(path)] for path in ("/sports", "/politics")
    }
    assert sent == {"/sports": [sports], "/politics": [politics]}

    page.goto(f"{app_url}/alerts")
    page.get_by_text("Delivery history").wait_for()
    _settled(page)
    page.get_by_role("button", name="Refresh").click()  # the delivery history is cached for a minute
    _settled(page)
    # Tables are canvas grids; their accessible cells are in the DOM (hidden) once drawn: the rule's name
    # shows in the rules table and beside its delivery in the history.
    page.locator("[role='gridcell']").filter(has_text="Politics desk").nth(1).wait_for(state="attached")
    _looked_at(screenshot(page, "rules_split_by_tag"))


def test_nearing_resolution_lists_the_planted_markets_in_order(page, app_url, browser_world):
    with psycopg.connect(browser_world.url, autocommit=True) as conn:
        now = conn.execute("select now()").fetchone()[0]
        plant(conn, now)
        plant_signal(conn, "soon", now)
    page.goto(f"{app_url}/resolution")
    page.get_by_role("heading", name="Markets nearing resolution").wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    _settled(page)
    planted = {p.question: p.label for p in PLANTED}
    first = next(p.question for p in PLANTED if p.label == EXPECTED_ORDER[0])
    grid_cells = page.get_by_test_id("stDataFrame").first.locator("[role='gridcell']")
    # The grid is a canvas; its accessible cells (hidden) are in the DOM once it has drawn.
    grid_cells.filter(has_text=first).first.wait_for(state="attached")
    cells = grid_cells.all_text_contents()
    shown = [planted[c.strip()] for c in cells if c.strip() in planted]
    assert shown == list(EXPECTED_ORDER)
    assert _metric(page, "Being resolved") == "2" and _metric(page, "With signals in 24 h") == "1"
    _looked_at(screenshot(page, "nearing_resolution"))
