"""The alert sensor through Dagster: build_sensor_context with a real instance and the warehouse resource."""

from __future__ import annotations

import json

import dagster as dg

from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.alerts.registry import resources, sensors
from pm_sensors.alerts.sensor import AlertDeliveryResource, alert_delivery_sensor
from tests.alerts.conftest import add_arbitrage, add_fresh_wallet, add_rule, add_spike, deliveries


def _evaluate(instance, warehouse_url, cursor):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "warehouse": WarehouseResource(database_url=warehouse_url),
            "alert_delivery": AlertDeliveryResource(allow_private_webhooks=True),
        },
    )
    result = alert_delivery_sensor(context)
    return context.cursor, result


def test_sensor_delivers_each_signal_once_and_beats(db, receiver, warehouse_url):
    add_rule(db, "fresh", receiver.url("/fresh"), kind="discord")
    add_rule(db, "arbs", receiver.url("/arb"), signal_type="arbitrage", kind="slack")
    add_rule(db, "spikes", receiver.url("/spike"), signal_type="price_spike")
    fresh = add_fresh_wallet(db, 1)
    arb = add_arbitrage(db, 1)
    spike = add_spike(db, 1)

    with dg.instance_for_test() as instance:
        cursor, result = _evaluate(instance, warehouse_url, None)
        assert isinstance(result, dg.SkipReason) and "delivered=3" in result.skip_message
        later = add_fresh_wallet(db, 2)
        for _ in range(2):
            cursor, result = _evaluate(instance, warehouse_url, cursor)

    stored = json.loads(cursor)
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
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            resources={
                "warehouse": WarehouseResource(database_url=warehouse_url),
                "alert_delivery": AlertDeliveryResource(),
            },
        )
        result = alert_delivery_sensor(context)

    (row,) = deliveries(db)
    assert row["status"] == "failed" and row["attempts"] == 0
    assert "private address 10.0.0.7" in row["last_error"] and "https://10.0.0.7/***" in row["last_error"]
    assert "sekrit" not in row["last_error"] and "sekrit" not in result.skip_message
    assert "failed=1" in result.skip_message


def test_registry_definitions_are_loadable():
    defs = dg.Definitions(
        sensors=sensors,
        resources={**resources, "warehouse": WarehouseResource(database_url=dg.EnvVar("DATABASE_URL"))},
    )
    dg.Definitions.validate_loadable(defs)
    assert [s.name for s in sensors] == ["alert_delivery_sensor"]
    assert alert_delivery_sensor.minimum_interval_seconds == 5
