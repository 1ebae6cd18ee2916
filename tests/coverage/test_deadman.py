"""The dead-man's switch fires once per outage and once on recovery, through the real sensor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg

from pm_assets.coverage import deadman
from pm_assets.coverage.assets import deadman_sensor
from pm_assets.coverage.status import StatusThresholds
from pm_assets.resources.warehouse import WarehouseResource

THRESHOLDS = StatusThresholds(parts=("stream_consumer",), heartbeat_stale_s={"stream_consumer": 30.0})


def test_one_alert_per_outage_and_one_recovery(warehouse_url):
    sent = []
    t0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("insert into heartbeats (part, last_beat_at) values ('stream_consumer', %s)", (t0,))
        for seconds in (10, 20):
            assert deadman.evaluate(conn, t0 + timedelta(seconds=seconds), THRESHOLDS, sent.append) == []
        for seconds in (45, 60, 120, 300):  # silent through several evaluations: one alert
            deadman.evaluate(conn, t0 + timedelta(seconds=seconds), THRESHOLDS, lambda e: sent.append(e))
        conn.execute("update heartbeats set last_beat_at = %s", (t0 + timedelta(seconds=301),))
        for seconds in (305, 310):
            deadman.evaluate(conn, t0 + timedelta(seconds=seconds), THRESHOLDS, lambda e: sent.append(e))
        events = conn.execute("select part, kind from deadman_events order by id").fetchall()
    assert [(e.part, e.kind) for e in sent] == [("stream_consumer", "silent"), ("stream_consumer", "recovered")]
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
