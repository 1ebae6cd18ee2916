"""The dead-man's switch fires once per outage and once on recovery, through the real sensor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage import deadman
from pm_assets.coverage.status import StatusThresholds
from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.coverage.deadman_sensor import deadman_sensor

THRESHOLDS = StatusThresholds(parts=("stream_consumer",), heartbeat_stale_s={"stream_consumer": 30.0})


def test_one_alert_per_outage_and_one_recovery(warehouse_url):
    sent = []
    t0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("insert into heartbeats (part, last_beat_at) values ('stream_consumer', %s)", (t0,))
        for seconds in (10, 20):
            assert (
                deadman.evaluate(
                    conn, t0 + timedelta(seconds=seconds), THRESHOLDS, lambda e, c: sent.append(e)
                )
                == []
            )
        for seconds in (45, 60, 120, 300):  # silent through several evaluations: one alert
            deadman.evaluate(conn, t0 + timedelta(seconds=seconds), THRESHOLDS, lambda e, c: sent.append(e))
        conn.execute("update heartbeats set last_beat_at = %s", (t0 + timedelta(seconds=301),))
        for seconds in (305, 310):
            deadman.evaluate(conn, t0 + timedelta(seconds=seconds), THRESHOLDS, lambda e, c: sent.append(e))
        events = conn.execute("select part, kind from deadman_events order by id").fetchall()
    assert [(e.part, e.kind) for e in sent] == [
        ("stream_consumer", "silent"),
        ("stream_consumer", "recovered"),
    ]
    assert "silent for 45 s (threshold 30 s)" in sent[0].text
    assert events == [("stream_consumer", "silent"), ("stream_consumer", "recovered")]


def test_sensor_records_a_part_that_never_beat(warehouse_url, monkeypatch):
    monkeypatch.setenv("PM_INTEL_STATUS_PARTS", "alert_delivery")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, resources={"warehouse": WarehouseResource(database_url=warehouse_url)}
        )
        first = deadman_sensor(context)
        second = deadman_sensor(context)
    assert "alert_delivery silent" in first.skip_message
    assert second.skip_message == "all watched parts beating" or "silent" not in second.skip_message
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute("select part, kind, notified from deadman_events").fetchall()
    assert [(p, k) for p, k, _ in rows] == [("alert_delivery", "silent")]


def test_receiver_down_for_five_minutes_alerts_once_and_recovers_once(warehouse_url, monkeypatch):
    """The webhook itself is down: deliveries fail, the switch fires once; its own message waits for the
    receiver to come back, then the outage and the recovery arrive exactly once each."""
    from pm_sensors.alerts.receiver import running_receiver
    from pm_sensors.coverage.deadman_sensor import _notify

    monkeypatch.setenv("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", "1")
    thresholds = StatusThresholds(parts=(), default_stale_s=120.0)
    t0 = datetime.now(UTC)
    with running_receiver() as receiver, psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into alert_rules (name, signal_type, destination_kind, webhook_url) values ('ops', 'system', 'json', %s)",
            (receiver.url("/ops"),),
        )
        conn.execute(
            "insert into alert_rules (name, signal_type, destination_kind, webhook_url) values ('r', 'fresh_wallet', 'json', %s)",
            (receiver.url("/alerts"),),
        )
        conn.execute(
            "insert into alert_deliveries (rule_id, signal_table, signal_key, status, attempts, first_attempt_at) "
            "select rule_id, 'fresh_wallet_trades', 'k1', 'pending', 3, %s from alert_rules where name = 'r'",
            (t0,),
        )
        receiver.set_down(True)
        for minute in range(0, 6):
            deadman.evaluate(conn, t0 + timedelta(minutes=minute), thresholds, _notify)
        assert receiver.delivered("/ops") == []
        receiver.set_down(False)
        conn.execute(
            "update alert_deliveries set status = 'delivered', delivered_at = %s",
            (t0 + timedelta(minutes=6),),
        )
        for minute in (6, 7, 8):
            deadman.evaluate(conn, t0 + timedelta(minutes=minute, seconds=1), thresholds, _notify)
        events = conn.execute("select part, kind, notified from deadman_events order by id").fetchall()
    texts = [
        r.body["text"] if isinstance(r.body, dict) and "text" in r.body else str(r.body)
        for r in receiver.delivered("/ops")
    ]
    assert events == [("alert_webhooks", "silent", True), ("alert_webhooks", "recovered", True)]
    assert len(texts) == 2 and "failing for" in texts[0] and "recovered" in texts[1]
