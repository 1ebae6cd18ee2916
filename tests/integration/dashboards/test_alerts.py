import psycopg
import pytest

from pm_assets.signals import thresholds
from pm_assets.signals.spec import ThresholdSet, threshold
from tests.support.apptest import frame_with, open_page, texts, widget

GOOD_URL = "https://93.184.216.34/hooks/T000/B000/very-secret-token"


def _rules(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select name, signal_type, destination_kind, webhook_url, enabled, daily_budget, filters"
            " from alert_rules order by rule_id"
        ).fetchall()


def _fill(at, *, name="Big spikes", url=GOOD_URL, filters="{}", budget=0):
    widget(at, "text_input", "Name").input(name)
    widget(at, "selectbox", "Signal").set_value("price_spike")
    widget(at, "selectbox", "Destination").set_value("discord")
    widget(at, "text_input", "Webhook URL").input(url)
    widget(at, "text_area", "Filters").input(filters)
    widget(at, "number_input", "Daily budget").set_value(budget)
    return next(b for b in at.button if b.label == "Save rule")


def test_create_rule_stores_it_and_never_shows_the_secret(world):
    at = open_page("alerts")
    _fill(at, filters='{"min_move_points": 15}', budget=20).click().run()
    assert "Saved rule 'Big spikes'." in texts(at)
    stored = _rules(world.url)[-1]
    assert stored == ("Big spikes", "price_spike", "discord", GOOD_URL, True, 20, {"min_move_points": 15})
    rules = frame_with(at, "webhook")
    assert "https://93.184.216.34/***" in rules["webhook"].tolist()
    shown = texts(at) + "\n".join(map(str, (w.value for w in at.text_input)))
    shown += rules.to_csv()
    assert "very-secret-token" not in shown and "secret1" not in shown and "secret2" not in shown


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.216.34/hook", "webhook URL must use https"),
        ("https://127.0.0.1/hook", "loopback address"),
        ("https://10.1.2.3/hook", "private address"),
        ("javascript:alert(1)", "must start with https://"),
    ],
)
def test_bad_webhooks_change_nothing(world, url, message):
    before = _rules(world.url)
    at = open_page("alerts")
    _fill(at, url=url).click().run()
    assert any(message in e.value and e.value.startswith("Not saved") for e in at.error)
    assert _rules(world.url) == before


def test_bad_filters_and_duplicate_names_change_nothing(world):
    before = _rules(world.url)
    at = open_page("alerts")
    _fill(at, filters="{not json").click().run()
    assert any("filters are not valid JSON" in e.value for e in at.error)
    _fill(at, name="All arbitrage").click().run()
    assert any("a rule named 'All arbitrage' already exists" in e.value for e in at.error)
    assert _rules(world.url) == before


def test_private_targets_allowed_by_setting(world, monkeypatch):
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")
    at = open_page("alerts")
    _fill(at, url="http://127.0.0.1:9999/hook").click().run()
    assert _rules(world.url)[-1][3] == "http://127.0.0.1:9999/hook"


def test_edit_keeps_the_stored_url_and_disables(world):
    at = open_page("alerts")
    widget(at, "selectbox", "Create or edit").set_value("All arbitrage").run()
    assert "stored: https://alerts.example.com/***" in widget(at, "text_input", "Webhook URL").label
    widget(at, "checkbox", "Enabled").uncheck()
    next(b for b in at.button if b.label == "Save rule").click().run()
    name, _, _, url, enabled, _, _ = _rules(world.url)[1]
    assert (name, url, enabled) == ("All arbitrage", "https://alerts.example.com/hook?token=secret2", False)


def test_delivery_history_shows_failures(world):
    at = open_page("alerts")
    widget(at, "selectbox", "Status").set_value("failed").run()
    history = frame_with(at, "last_error")
    assert history["last_error"].tolist() == ["HTTP 500 from target"]
    assert "1 deliveries shown, 1 failed" in texts(at)


class ExampleThresholds(ThresholdSet):
    example_min_usdc: float = threshold(5000.0, "smallest trade that counts", ge=0, le=1_000_000)


@pytest.fixture
def example_threshold(monkeypatch):
    """A registered example threshold set (signals declare theirs in their SPEC, pm_assets/signals/specs.py)."""
    monkeypatch.setattr(thresholds, "_EXTRA", {"example_signal": ExampleThresholds})


def _override(url):
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select value from threshold_overrides where signal_type = 'example_signal'"
        ).fetchone()
    return None if row is None else row[0]


def test_threshold_override_is_validated(world, example_threshold):
    at = open_page("alerts")
    catalogue = frame_with(at, "threshold")
    assert "example_min_usdc" in catalogue["threshold"].tolist()
    widget(at, "selectbox", "Threshold").set_value("example_signal.example_min_usdc")
    for bad, message in (
        ("-5", "must be at least 0"),
        ("lots", "must be a float"),
        ("1e9", "at most"),
        ("1e308", "at most"),
        ("inf", "must be a finite number"),
        ("Infinity", "must be a finite number"),
        ("NaN", "must be a finite number"),
    ):
        widget(at, "text_input", "New value").input(bad)
        next(b for b in at.button if b.label == "Save override").click().run()
        assert any(message in e.value and "\n" not in e.value for e in at.error), bad
        assert _override(world.url) is None
    widget(at, "text_input", "New value").input("25000")
    next(b for b in at.button if b.label == "Save override").click().run()
    assert _override(world.url) == 25000.0
    next(b for b in at.button if b.label.startswith("Remove override")).click().run()
    assert _override(world.url) is None


def test_test_send_posts_to_the_rule_webhook(world, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")
    try:
        at = open_page("alerts")
        _fill(at, name="Local", url=f"http://127.0.0.1:{server.server_port}/hook/secret-path").click().run()
        widget(at, "selectbox", "Create or edit").set_value("Local").run()
        next(b for b in at.button if b.label.startswith("Send a test message")).click().run()
    finally:
        server.shutdown()
    assert len(received) == 1 and "[TEST]" in json.dumps(received[0])
    assert any("sent to http://127.0.0.1" in s.value for s in at.success)
    assert "secret-path" not in texts(at)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ('{"min_move_points": NaN}', "NaN is not a number a filter can use"),
        ('{"min_move_points": Infinity}', "Infinity is not a number"),
        ('{"min_move_points": 1e999}', "must be a finite number"),
        ('{"foo": 1}', "unknown filter 'foo' for price_spike; known filters: "),
        ('{"min_colour": 1}', "unknown filter 'min_colour'"),
    ],
)
def test_filters_are_validated_on_save_and_nothing_reaches_the_database(world, filters, message):
    before = _rules(world.url)
    at = open_page("alerts")
    _fill(at, filters=filters).click().run()
    errors = [e.value for e in at.error]
    assert any(message in e and e.startswith("Not saved") for e in errors), errors
    assert not at.exception and _rules(world.url) == before
    if "known filters" in message:  # the list names what a price spike can be filtered on
        assert "min_move_points" in errors[0] and "min_move" in errors[0] and "summary_contains" in errors[0]
    assert "very-secret-token" not in texts(at)


def test_what_if_runs_are_listed_apart_from_the_saved_thresholds(world):
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute(
            "insert into signal_what_if (what_if_id, signal_type, signal_key, suppressed_reason, thresholds, row)"
            " values ('abc123', 'fresh_wallet', 'k1', null, '{\"fresh_min_usdc\": 6000}', '{}'),"
            " ('abc123', 'fresh_wallet', 'k2', 'not_fired', '{\"fresh_min_usdc\": 6000}', '{}')"
        )
    at = open_page("alerts")
    runs = frame_with(at, "what_if_id")
    assert runs[["what_if_id", "signal_type", "rows", "alerts"]].values.tolist() == [
        ["abc123", "fresh_wallet", 2, 1]
    ]
    assert "6000" in runs["thresholds"][0]
    assert "What-if runs" in texts(at)
