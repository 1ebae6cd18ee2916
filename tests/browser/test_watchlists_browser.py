"""Issue 18, watchlists in headless Chromium: a pasted list with a bad line (reported, the rest saved), then a
pm_sim planted trade by a watched wallet reaches a loopback webhook as a watched_wallet alert and shows on the
page.

Trades come from pm_sim through the production live-edge poll; the insider signals (watched_wallet among them)
are evaluated as the live pass evaluates them (insider_signals.EVALUATORS with the saved
thresholds); alerts go out through the alert delivery sensor to pm_sensors' loopback receiver.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import psycopg
import pytest

from pm_assets.coverage.status import StatusThresholds
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.insider_signals import EVALUATORS
from pm_sensors.alerts.receiver import running_receiver
from pm_sim.testing import running_sim
from tests.browser.conftest import screenshot, streamlit_app
from tests.browser.test_dashboards_browser import _settled
from tests.conftest import _create_db, _drop_db
from tests.support.pipeline import Pipeline, add_rule, sim_now, wait_until
from tests.support.stream import seed_universe

pytestmark = pytest.mark.browser
BAD_LINE = "0xnot-a-wallet"
QUIET = logging.getLogger("tests.watchlists")


@pytest.fixture(scope="module")
def sim_world(pg_server_url: str, migrated_template: str) -> Iterator[tuple[str, object]]:
    name = f"pm_intel_watch_browser_{os.getpid()}"
    url = _create_db(pg_server_url, name, template=migrated_template)
    start = float(int(time.time()))  # sim time starts at wall time: ingestion and alert times line up
    with running_sim(markets=20, trades_per_second=0.5, data_v1=False, start=start, horizon_hours=1.0) as sim:
        seed_universe(url, sim)
        yield url, sim
    _drop_db(pg_server_url, name)


@pytest.fixture(scope="module")
def sim_app_url(sim_world, tmp_path_factory) -> Iterator[str]:
    with streamlit_app(sim_world[0], tmp_path_factory) as base:
        yield base


def _evaluate_insider_signals(url: str) -> None:
    """One evaluation of the insider signals as the live pass runs them (the saved thresholds)."""
    warehouse = WarehouseResource(database_url=url)
    for _name, evaluate, config_class in EVALUATORS:
        kwargs = {"config": config_class()} if config_class is not None else {}
        evaluate(QUIET, warehouse, **kwargs)


def _planted_trade_to_webhook(url: str, sim, wallet: str) -> tuple[str, str]:
    """Ingest until the planted trade is stored, evaluate, deliver: (the alert's summary, the webhook's body)."""
    with running_receiver() as receiver, dg.instance_for_test() as instance:
        add_rule(url, "watched wallets", "watched_wallet", receiver.url("/watched"))
        pipeline = Pipeline(url, sim, instance, StatusThresholds())

        def wallet_traded() -> bool:
            with psycopg.connect(url) as conn:
                return bool(conn.execute("select 1 from trades where wallet = %s", (wallet,)).fetchone())

        def step() -> None:
            sim.advance(120)
            pipeline.tick_trade_edge()

        pipeline.tick_trade_edge()
        wait_until(wallet_traded, "the planted trade stored by the live-edge poll", step=step)
        _evaluate_insider_signals(url)
        with psycopg.connect(url) as conn:
            (summary,) = conn.execute(
                "select evidence->>'summary' from watched_wallet_trades where wallet = %s"
                " and suppressed_reason is null",
                (wallet,),
            ).fetchone()

        def delivered():
            return [r for r in receiver.delivered("/watched") if wallet in str(r.body)]

        [request] = wait_until(delivered, "the alert at the webhook", step=pipeline.tick_alerts)
        return summary, str(request.body)


def test_paste_a_list_with_a_bad_line_then_a_watched_wallets_trade_reaches_the_webhook(
    page, sim_world, sim_app_url
):
    url, sim = sim_world
    now = sim_now(sim).timestamp()
    planted = min(
        (r for r in sim.ground_truth() if r["kind"] == "fresh_wallet_insider" and r["start_ts"] > now),
        key=lambda r: r["start_ts"],
    )
    wallet = planted["wallet"]
    other = "0x" + "5" * 40  # a valid wallet that never trades

    page.goto(f"{sim_app_url}/watchlists")
    page.get_by_text("Create a list or add wallets to one").wait_for()
    _settled(page)
    page.get_by_label("Watchlist name", exact=True).fill("Planted insiders")
    page.get_by_label("Wallets, one a line").fill(
        f"{wallet.upper().replace('0X', '0x')},planted\n{BAD_LINE}\n{other}"
    )
    page.get_by_role("button", name="Save wallets").click()
    page.get_by_text("Created watchlist Planted insiders: 2 wallet(s) added.").wait_for()
    page.get_by_text("1 line(s) not added").wait_for()
    _settled(page)
    problems = page.get_by_test_id("stDataFrame").first
    problems.scroll_into_view_if_needed()
    screenshot(page, "watchlist_pasted_with_bad_line")
    with psycopg.connect(url) as conn:
        stored = sorted(r[0] for r in conn.execute("select wallet from watchlist_wallets").fetchall())
    assert stored == sorted([wallet, other]), "the good lines are saved, lowercased"

    # Playwright's sync API holds an event loop in this thread; the sensors run their own (asyncio.run).
    with ThreadPoolExecutor(1) as pool:
        summary, body = pool.submit(_planted_trade_to_webhook, url, sim, wallet).result()
    assert summary.startswith("watched wallet 'planted' (list Planted insiders) bought")
    assert "Watched wallet trade" in body and summary in body

    page.goto(f"{sim_app_url}/watchlists?list=Planted+insiders")
    page.get_by_text("Signals they triggered").wait_for()
    _settled(page)
    # The page read the list's signals (none) before the trade: the sidebar's Refresh clears cached reads.
    page.get_by_role("button", name="Refresh").click()
    _settled(page)
    page.get_by_text("Watched-wallet trades: 1").wait_for()
    page.get_by_text("watched wallet 'planted' (list Planted insiders) bought").first.wait_for()
    page.mouse.move(700, 100)  # no tooltip over the screenshot
    screenshot(page, "watchlist_signal_delivered")


def test_upload_a_csv_with_a_header_and_a_duplicate(page, app_url, browser_world):
    first, second = browser_world.wallets[1], browser_world.wallets[2]
    csv = f'address,label,note\n{first},one,"note, with comma"\n{second},two,\n{first.upper().replace("0X", "0x")},again,\n'
    page.goto(f"{app_url}/watchlists")
    page.get_by_text("Create a list or add wallets to one").wait_for()
    _settled(page)
    page.get_by_label("Watchlist name", exact=True).fill("Uploaded")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "wallets.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_text("wallets.csv").wait_for()
    page.get_by_role("button", name="Save wallets").click()
    page.get_by_text("Created watchlist Uploaded: 2 wallet(s) added.").wait_for()
    page.get_by_text("1 line(s) not added").wait_for()
    _settled(page)
    screenshot(page, "watchlist_uploaded_csv")
    with psycopg.connect(browser_world.url) as conn:
        stored = conn.execute(
            "select wallet, label, note from watchlist_wallets w join watchlists l using (watchlist_id)"
            " where l.name = 'Uploaded' order by label"
        ).fetchall()
    assert stored == [(first, "one", "note, with comma"), (second, "two", None)]
