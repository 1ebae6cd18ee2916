"""Alert delivery as production drives it: one `AlertDeliverer.tick()` per live pass, with the settings of the
`alert_delivery` resource; no sensor delivers (the live run is delivery's one driver)."""

from __future__ import annotations

import json

import dagster as dg
import psycopg

from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.alerts.delivery import AlertDeliverer
from pm_sensors.alerts.delivery_resource import AlertDeliveryResource
from pm_sensors.alerts.registry import resources, sensors
from tests.support.alerts import add_arbitrage, add_fresh_wallet, add_rule, add_spike, deliveries


def _deliverer(warehouse_url: str, resource: AlertDeliveryResource) -> AlertDeliverer:
    return AlertDeliverer(lambda: psycopg.connect(warehouse_url, autocommit=True), resource.settings())


def test_each_signal_is_delivered_once_and_delivery_beats(db, receiver, warehouse_url):
    add_rule(db, "fresh", receiver.url("/fresh"), kind="discord")
    add_rule(db, "arbs", receiver.url("/arb"), signal_type="arbitrage", kind="slack")
    add_rule(db, "spikes", receiver.url("/spike"), signal_type="price_spike")
    fresh = add_fresh_wallet(db, 1)
    arb = add_arbitrage(db, 1)
    spike = add_spike(db, 1)

    deliverer = _deliverer(warehouse_url, AlertDeliveryResource(allow_private_webhooks=True))
    report = deliverer.tick(None)
    assert report.delivered == 3
    later = add_fresh_wallet(db, 2)
    for _ in range(2):
        report = deliverer.tick(report.cursor)

    stored = json.loads(json.dumps(report.cursor))
    assert {"fresh_wallet_trades", "arbitrage_windows", "price_spikes"} <= set(stored)
    assert stored["fresh_wallet_trades"][1] == later
    assert [r.body["embeds"][0]["title"] for r in receiver.delivered("/fresh")] == ["Fresh wallet trade"] * 2
    assert {r.path for r in receiver.delivered()} == {"/fresh", "/arb", "/spike"}
    assert sorted(r["signal_key"] for r in deliveries(db)) == sorted([fresh, arb, spike, later])
    assert len(receiver.delivered()) == 4
    part, detail = db.execute("select part, detail from heartbeats where part = 'alert_delivery'").fetchone()
    assert part == "alert_delivery" and "tick_s" in detail


def test_private_webhook_target_is_refused_and_recorded_masked(db, warehouse_url, monkeypatch):
    monkeypatch.delenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    add_rule(db, "internal", "https://10.0.0.7/services/T0/B0/sekrit")
    add_rule(db, "bad filters", "https://hooks.slack.com/services/T0/B0/sekrit2", filters={"nope": 1})
    add_fresh_wallet(db, 1)
    report = _deliverer(warehouse_url, AlertDeliveryResource()).tick(None)

    (row,) = deliveries(db)
    assert row["status"] == "failed" and row["attempts"] == 0
    assert "private address 10.0.0.7" in row["last_error"] and "https://10.0.0.7/***" in row["last_error"]
    assert "sekrit" not in row["last_error"] and "sekrit" not in str(report.summary())
    assert report.failed == 1


def test_registry_binds_the_resource_and_no_delivery_sensor():
    defs = dg.Definitions(
        sensors=sensors,
        resources={**resources, "warehouse": WarehouseResource(database_url=dg.EnvVar("DATABASE_URL"))},
    )
    dg.Definitions.validate_loadable(defs)
    assert sensors == [] and isinstance(resources["alert_delivery"], AlertDeliveryResource)
