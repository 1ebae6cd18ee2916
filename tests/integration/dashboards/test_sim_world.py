"""The dashboards over a pm_sim world (markets, trades, books and resolutions as the ingestion stores them) with
signals written by the real signal assets: every page renders and its figures match the warehouse.
Also: the app never imports Dagster."""

import subprocess
import sys

import dagster as dg
import psycopg
import pytest

from bench.scoring_market import load_sim_world
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.market_assets import arbitrage_windows, price_spikes
from pm_sim.config import SimConfig
from pm_sim.sim import Sim
from tests.support.apptest import frame_with, open_page

PAGES = ["overview", "markets", "wallets", "signals", "arbitrage", "alerts", "pipeline"]


@pytest.fixture
def sim_world(warehouse_url, monkeypatch):
    import streamlit as st

    for name in (
        "DAGSTER_PG_URL",
        "DASHBOARD_DATABASE_URL",
        "DASHBOARD_EDITOR_DATABASE_URL",
        "PM_INTEL_DASHBOARD_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    sim = Sim(
        SimConfig(
            seed=3,
            markets=20,
            history_hours=1.0,
            horizon_hours=1.0,
            ws_rate=1.0,
            speed=0.0,
            rate_limits=False,
        )
    )
    with psycopg.connect(warehouse_url) as conn:
        load_sim_world(conn, sim, max_books=200_000)
    result = dg.materialize(
        [arbitrage_windows, price_spikes],
        resources={"warehouse": WarehouseResource(database_url=warehouse_url)},
    )
    assert result.success
    return warehouse_url


def test_every_page_over_a_sim_world(sim_world):
    with psycopg.connect(sim_world) as conn:
        busiest = conn.execute(
            "select condition_id, count(*) from trades group by 1 order by 2 desc limit 1"
        ).fetchone()
        windows = conn.execute(
            "select count(*) from arbitrage_windows where suppressed_reason is null"
            " and opened_at >= now() - interval '30 days'"
        ).fetchone()[0]
    assert busiest and busiest[1] > 0
    for page in PAGES:
        open_page(None if page == "overview" else page)
    at = open_page("markets", market=busiest[0])
    assert len(frame_with(at, "transaction_hash")) == min(100, busiest[1])
    at = open_page("signals")
    tab = next(t for t in at.tabs if t.label == "Arbitrage windows")
    arbs = tab.dataframe[0].value
    assert len(arbs) == windows > 0
    # Real signal rows carry evidence["summary"]: that is what the page shows.
    assert all(isinstance(w, str) and w for w in arbs.get("evidence_words", []))


def test_the_app_never_imports_dagster():
    code = (
        "import sys; import dashboards.queries, dashboards.db, dashboards.market_drilldown, dashboards.rule_form,"
        " dashboards.threshold_form, dashboards.webhook_targets, dashboards.access, dashboards.scorecards,"
        " pm_sensors.alerts.filters;"  # scorecard_summary imports the filters when called
        " assert 'dagster' not in sys.modules, 'dashboards import dagster'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
