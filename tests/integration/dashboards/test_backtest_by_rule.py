"""The threshold backtest counts only what a chosen alert rule would send (its tag filters included)."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from pm_assets.signals.backtest import backtest
from tests.support.apptest import open_page, texts, widget

PROPOSED = {"spike_min_move_points": 5.0}


def _alerts(url, filters=None):
    with psycopg.connect(url) as conn:
        result = backtest(conn, "price_spike", {}, PROPOSED, 7, filters=filters)
    return result["current"]["alerts"], result["proposed"]["alerts"]


def test_a_tag_and_its_exclusion_split_the_backtest(world):
    every = _alerts(world.url)
    politics = _alerts(world.url, {"tags": ["Politics"]})
    rest = _alerts(world.url, {"exclude_tags": ["politics"]})
    assert every[1] > 0 and politics[1] > 0 and rest[1] > 0
    assert politics[0] + rest[0] == every[0] and politics[1] + rest[1] == every[1]
    assert _alerts(world.url, {"exclude_tags": ["politics", "sports", "crypto"]}) == (0, 0)


def test_the_form_backtests_as_a_rule(world):
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute(
            "insert into alert_rules (name, signal_type, filters, destination_kind, webhook_url) "
            "values ('Sports moves', 'price_spike', %s, 'json', 'https://hooks.example.com/x')",
            (Jsonb({"exclude_tags": ["politics"]}),),
        )
    at = open_page("alerts")
    widget(at, "selectbox", "Threshold").set_value("price_spike.spike_min_move_points")
    widget(at, "text_input", "New value").input("5")
    widget(at, "selectbox", "Count only what this alert rule would send").set_value("Sports moves")
    next(b for b in at.button if b.label == "Backtest").click().run()
    assert not at.exception, [e.value for e in at.exception]
    current, proposed = _alerts(world.url, {"exclude_tags": ["politics"]})
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Alerts (current)"] == f"{current:,}" and metrics["Alerts (proposed)"] == f"{proposed:,}"
    assert "counting only what a rule with filters" in texts(at)

    widget(at, "selectbox", "Count only what this alert rule would send").set_value("All arbitrage")
    next(b for b in at.button if b.label == "Backtest").click().run()
    assert "rule 'All arbitrage' sends arbitrage_windows signals, not price_spike" in texts(at)
