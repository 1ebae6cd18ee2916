"""The scorecard beside each rule and behind each alert; a threshold edit backtested, saved, and applied by
the live run's next market-signals round."""

from __future__ import annotations

import psycopg

from pm_assets.signals import spikes, thresholds
from pm_assets.signals.backtest import backtest
from pm_assets.signals.scorecard import scorecard_summary
from tests.support.apptest import frame_with, open_page, texts, widget


def _overrides(url, signal_type):
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "select name, value from threshold_overrides where signal_type = %s", (signal_type,)
            ).fetchall()
        )


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _next_run_thresholds(url):
    """What the next price_spikes evaluation uses: the live run's market-signals round
    (pm_sensors/live/periodic.market_signals) resolves the saved values at each round, as a launched run does."""
    with psycopg.connect(url) as conn:
        return thresholds.saved_values(conn, spikes.SPEC.signal_type)


def test_each_rule_shows_its_scorecard_headline(world):
    at = open_page("alerts")
    rules = frame_with(at, "scorecard").set_index("name")["scorecard"]
    # The seed scored fw-2 (a YES bet on the market that resolved NO): one wrong alert, the stake lost.
    assert (
        rules["Fresh wallets over $10k"] == "1 alerts in 1 markets, right 0% [0-79], -100.0% per alert at"
        " settlement after fees"
    )
    assert rules["All arbitrage"] == "no scored alerts yet"
    with psycopg.connect(world.url) as conn:
        expected = {r["name"]: r["headline"] for r in scorecard_summary(conn)["by_rule"]}
    assert rules.to_dict() == expected
    widget(at, "selectbox", "Create or edit").set_value("Fresh wallets over $10k").run()
    assert (
        "Scorecard of 'Fresh wallets over $10k' (what its filters would have sent, at 24 h): "
        + expected["Fresh wallets over $10k"]
    ) in texts(at)


def test_each_delivery_shows_its_signals_scorecard(world):
    at = open_page("alerts")
    history = frame_with(at, "signal_scorecard")
    by_table = dict(zip(history["signal_table"], history["signal_scorecard"], strict=True))
    assert by_table["fresh_wallet_trades"].startswith("1 alerts in 1 markets, right 0%")
    assert by_table["arbitrage_windows"] == "no scored alerts yet"


def test_signal_explorer_shows_the_scorecard_of_each_type(world):
    at = open_page("signals")
    captions = [str(c.value) for c in at.caption]
    assert any(
        c.startswith("Scorecard of fresh-wallet trades: 1 alerts in 1 markets, right 0%") for c in captions
    )
    assert "Scorecard of price and volume spikes: no scored alerts yet" in captions


def test_backtest_then_save_and_the_next_run_uses_it(world):
    assert _next_run_thresholds(world.url)["spike_min_move_points"] == 10.0
    at = open_page("alerts")
    widget(at, "selectbox", "Threshold").set_value("price_spike.spike_min_move_points")
    widget(at, "text_input", "New value").input("5")
    widget(at, "number_input", "Backtest over the last N days").set_value(7)
    _button(at, "Backtest").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _overrides(world.url, "price_spike") == {}, "a backtest saves nothing"

    with psycopg.connect(world.url) as conn:
        direct = backtest(conn, "price_spike", {}, {"spike_min_move_points": 5.0}, 7)
    metrics = {m.label: m.value for m in at.metric}
    for side in ("current", "proposed"):
        assert metrics[f"Alerts ({side})"] == f"{direct[side]['alerts']:,}"
        assert metrics[f"Markets ({side})"] == f"{direct[side]['markets']:,}"
    proposed = next(m for m in at.metric if m.label == "Alerts (proposed)")
    assert proposed.delta == str(direct["proposed"]["alerts"] - direct["current"]["alerts"])
    # A 5-point move fires on everything a 10-point one does, and more, on the seed's prints.
    assert direct["proposed"]["alerts"] > direct["current"]["alerts"] > 0
    comparison = frame_with(at, "measure").set_index("measure")
    assert comparison.loc["threshold spike_min_move_points"].tolist() == ["10.0", "5.0"]
    assert comparison.loc["signals fired"].tolist() == [
        str(direct["current"]["fired"]),
        str(direct["proposed"]["fired"]),
    ]
    shown = texts(at)
    assert direct["current"]["headline"] in shown and direct["proposed"]["headline"] in shown

    _button(at, "Save override").click().run()
    assert "price_spike.spike_min_move_points is now 5.0; the next run of price_spike uses it." in texts(at)
    assert _overrides(world.url, "price_spike") == {"spike_min_move_points": 5.0}
    assert not [m for m in at.metric if m.label.endswith("(proposed)")], "the saved edit's backtest is gone"
    assert _next_run_thresholds(world.url)["spike_min_move_points"] == 5.0


def test_backtest_current_side_includes_saved_overrides(world):
    with psycopg.connect(world.url) as conn:
        conn.execute(
            "insert into threshold_overrides (signal_type, name, value, updated_by)"
            " values ('price_spike', 'spike_min_move_points', '20', 'test')"
        )
    at = open_page("alerts")
    widget(at, "selectbox", "Threshold").set_value("price_spike.spike_window_minutes")
    widget(at, "text_input", "New value").input("30")
    _button(at, "Backtest").click().run()
    comparison = frame_with(at, "measure").set_index("measure")
    assert comparison.loc["threshold spike_window_minutes"].tolist() == ["15", "30"]
    with psycopg.connect(world.url) as conn:
        direct = backtest(
            conn,
            "price_spike",
            {"spike_min_move_points": 20},
            {"spike_min_move_points": 20, "spike_window_minutes": 30},
            7,
        )
    assert comparison.loc["signals fired"].tolist() == [
        str(direct["current"]["fired"]),
        str(direct["proposed"]["fired"]),
    ]


def test_bad_value_is_neither_backtested_nor_saved(world):
    at = open_page("alerts")
    widget(at, "selectbox", "Threshold").set_value("price_spike.spike_min_move_points")
    widget(at, "text_input", "New value").input("500")
    _button(at, "Backtest").click().run()
    assert any(e.value.startswith("Not backtested") and "at most 100" in e.value for e in at.error)
    assert not at.metric
    _button(at, "Save override").click().run()
    assert any(e.value.startswith("Not saved") and "at most 100" in e.value for e in at.error)
    assert _overrides(world.url, "price_spike") == {}


def test_signal_without_a_backtest_says_so_and_still_saves(world):
    at = open_page("alerts")
    widget(at, "selectbox", "Threshold").set_value("scorecard.scorecard_stake_usdc")
    widget(at, "text_input", "New value").input("250")
    _button(at, "Backtest").click().run()
    assert any(
        "scorecard has no backtest yet (available for arbitrage, price_spike)" in i.value for i in at.info
    )
    assert not at.metric
    _button(at, "Save override").click().run()
    assert _overrides(world.url, "scorecard") == {"scorecard_stake_usdc": 250.0}


def test_arbitrage_backtest_renders_both_sides(world):
    at = open_page("alerts")
    widget(at, "selectbox", "Threshold").set_value("arbitrage.arbitrage_min_edge")
    widget(at, "text_input", "New value").input("0.01")
    _button(at, "Backtest").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with psycopg.connect(world.url) as conn:
        direct = backtest(conn, "arbitrage", {}, {"arbitrage_min_edge": 0.01}, 7)
    metrics = {m.label: m.value for m in at.metric}
    assert [metrics[f"Alerts ({s})"] for s in ("current", "proposed")] == [
        f"{direct[s]['alerts']:,}" for s in ("current", "proposed")
    ]
    comparison = frame_with(at, "measure").set_index("measure")
    assert comparison.loc["threshold arbitrage_min_edge"].tolist() == ["0.002", "0.01"]
