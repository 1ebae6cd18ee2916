"""The stream supervisor sensor on a real DagsterInstance, and the gap across a supervised restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import orjson
import psycopg
import pytest
from dagster._core.test_utils import create_run_for_test

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.thresholds import saved_values
from pm_sensors.alerts.sensor import AlertDeliveryResource
from pm_sensors.stream.job import SINGLETON_TAGS, StreamSettingsResource, stream_consumer_job
from pm_sensors.stream.persistence import TICK_TABLES
from pm_sensors.stream.settings import StreamSettings
from pm_sensors.stream.supervisor import build_stream_supervisor
from pm_sim.testing import running_sim

from .conftest import ConsumerThread, live_tokens

SIGNALS_JOB = dg.define_asset_job(
    "stream_signals_job",
    selection=dg.AssetSelection.assets(dg.AssetKey("arbitrage_windows"), dg.AssetKey("price_spikes")),
)
SENSOR = build_stream_supervisor(SIGNALS_JOB)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def evaluate(instance, url: str, cursor: str | None = None) -> dg.SensorResult:
    ctx = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"warehouse": WarehouseResource(database_url=url)}
    )
    return SENSOR(ctx)


def beat(url: str, run_id: str | None, age_s: float, **detail) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into heartbeats (part, last_beat_at, run_id, detail) values ('stream_consumer', %s, %s, "
            "%s) on conflict (part) do update set last_beat_at = excluded.last_beat_at, "
            "run_id = excluded.run_id, detail = excluded.detail",
            (datetime.now(UTC) - timedelta(seconds=age_s), run_id, orjson.dumps(detail).decode()),
        )


def consumer_run(instance, status=dg.DagsterRunStatus.STARTED) -> str:
    return create_run_for_test(
        instance, job_name="stream_consumer_job", status=status, tags=SINGLETON_TAGS
    ).run_id


def consumer_requests(result: dg.SensorResult) -> list[dg.RunRequest]:
    return [r for r in result.run_requests or [] if r.job_name == "stream_consumer_job"]


def test_starts_one_run_when_none(instance, warehouse_url):
    result = evaluate(instance, warehouse_url)
    [req] = consumer_requests(result)
    assert req.tags["pm-intel/singleton"] == "stream" and req.run_key == "stream-consumer-1"


def test_nothing_to_do_while_a_healthy_run_beats(instance, warehouse_url):
    run_id = consumer_run(instance)
    beat(warehouse_url, run_id, age_s=2, messages=10)
    result = evaluate(instance, warehouse_url)
    assert not consumer_requests(result)
    assert "healthy" in result.skip_reason.skip_message
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED


def test_stale_heartbeat_terminates_the_hung_run_and_starts_another(instance, warehouse_url):
    run_id = consumer_run(instance)
    beat(warehouse_url, run_id, age_s=300)
    result = evaluate(instance, warehouse_url, cursor='{"generation": 4, "signals_through": null}')
    [req] = consumer_requests(result)
    assert req.run_key == "stream-consumer-5" and "heartbeat" in req.tags["pm-intel/stream-start-reason"]
    assert instance.get_run_by_id(run_id).status in (
        dg.DagsterRunStatus.CANCELED,
        dg.DagsterRunStatus.CANCELING,
    )


def test_a_second_consumer_run_is_ended(instance, warehouse_url):
    first = consumer_run(instance)
    time.sleep(0.01)
    second = consumer_run(instance)
    beat(warehouse_url, first, age_s=1)
    result = evaluate(instance, warehouse_url)
    assert not consumer_requests(result)
    assert instance.get_run_by_id(first).status == dg.DagsterRunStatus.STARTED
    assert instance.get_run_by_id(second).status in (
        dg.DagsterRunStatus.CANCELED,
        dg.DagsterRunStatus.CANCELING,
    )


def _ticks(url: str, minutes: list[int], base: datetime) -> None:
    with psycopg.connect(url) as conn:
        for m in minutes:
            ts = base + timedelta(minutes=m, seconds=10)
            conn.execute(
                "insert into ws_price_changes (server_ts, token_id, side, price, change_hash, condition_id, "
                "size, received_at) values (%s, '1', 'BUY', 0.5, %s, %s, 10, now())",
                (ts, f"h{m}", "0x" + "a" * 64),
            )
            conn.execute(
                "insert into ws_last_trades (server_ts, token_id, price, size, side, condition_id, "
                "received_at) values (%s, '1', 0.5, 3, 'BUY', %s, now())",
                (ts, "0x" + "a" * 64),
            )


def test_signal_run_requests_per_tick_bucket_never_fire_twice(instance, warehouse_url):
    run_id = consumer_run(instance)
    base = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    _ticks(warehouse_url, [0, 1, 2, 3], base)
    beat(
        warehouse_url,
        run_id,
        age_s=1,
        last_tick_ms=int((base + timedelta(minutes=3, seconds=10)).timestamp() * 1000),
    )
    first = evaluate(instance, warehouse_url)
    keys = sorted(r.run_key for r in first.run_requests if r.job_name == "stream_signals_job")
    # Minutes 0-2 are complete; minute 3 still fills.
    assert keys == sorted(
        f"{a}:{(base + timedelta(minutes=m)).isoformat()}"
        for a in ("arbitrage_windows", "price_spikes")
        for m in (0, 1, 2)
    )
    req = next(r for r in first.run_requests if r.run_key == keys[0])
    assert req.asset_selection == [dg.AssetKey("arbitrage_windows")]
    assert req.tags["pm-intel/stream-bucket-end"] == (base + timedelta(minutes=1)).isoformat()
    # Thresholds resolve when the run starts (saved override, env, default), so a request carries none: a value
    # copied here would become a Launchpad value and outlive a later dashboard edit.
    config = req.run_config.get("ops", {}).get("arbitrage_windows", {}).get("config", {})
    assert "arbitrage_min_edge" not in config
    again = evaluate(instance, warehouse_url, cursor=first.cursor)
    assert not again.run_requests
    _ticks(warehouse_url, [4], base)
    beat(
        warehouse_url,
        run_id,
        age_s=1,
        last_tick_ms=int((base + timedelta(minutes=4, seconds=10)).timestamp() * 1000),
    )
    with psycopg.connect(warehouse_url) as conn:  # an override saved from the dashboard reaches the next run
        conn.execute(
            "insert into threshold_overrides (signal_type, name, value) values "
            "('price_spike', 'spike_min_move_points', '7')"
        )
    later = evaluate(instance, warehouse_url, cursor=first.cursor)
    assert sorted(r.run_key for r in later.run_requests) == sorted(
        f"{a}:{(base + timedelta(minutes=3)).isoformat()}" for a in ("arbitrage_windows", "price_spikes")
    )
    spikes = next(r for r in later.run_requests if r.asset_selection == [dg.AssetKey("price_spikes")])
    assert "spike_min_move_points" not in spikes.run_config.get("ops", {}).get("price_spikes", {}).get(
        "config", {}
    )
    with psycopg.connect(warehouse_url) as conn:  # the run it starts reads the override then
        assert saved_values(conn, "price_spike")["spike_min_move_points"] == 7.0


def test_supervised_restart_leaves_a_short_recorded_gap(instance, warehouse_url):
    with running_sim(markets=24, speed=1.0, ws_rate=300.0, seed=5) as sim:
        tokens = live_tokens(sim, 8)
        settings = StreamSettings(
            ws_url=sim.ws_url, selection="list", tokens=tuple(tokens), flush_interval_s=0.1
        )
        with ConsumerThread(settings, warehouse_url, run_id="dead-run") as ct:
            ct.wait_for(lambda: ct.consumer.stats.messages > 100, "100 messages")
        # The consumer is gone and its run never existed in this instance: the supervisor starts one.
        [req] = consumer_requests(evaluate(instance, warehouse_url))
        result = stream_consumer_job.execute_in_process(
            run_config={
                "ops": {
                    "run_stream_consumer": {
                        "config": {
                            "selection": "list",
                            "tokens": tokens,
                            "max_runtime_s": 1.5,
                            "flush_interval_s": 0.1,
                        }
                    }
                }
            },
            resources={
                "warehouse": WarehouseResource(database_url=warehouse_url),
                "stream_settings": StreamSettingsResource(ws_url=sim.ws_url),
                "data_api": DataApiClient(base_url=sim.data_url),
                "alert_delivery": AlertDeliveryResource(),
            },
            instance=instance,
            tags=req.tags,
        )
    assert result.success
    with psycopg.connect(warehouse_url) as conn:
        gaps = conn.execute(
            "select started_at, ended_at, detail from stream_health where event = 'gap'"
        ).fetchall()
        hb_run = conn.execute("select run_id from heartbeats where part = 'stream_consumer'").fetchone()[0]
        arrivals = sorted(
            r[0]
            for r in conn.execute(" union all ".join(f"select received_at from {t}" for t in TICK_TABLES))
        )  # noqa: S608 - fixed table names
    [(start, end, detail)] = gaps
    assert detail["reason"] == "consumer restart"
    print(f"supervised restart gap: {(end - start).total_seconds():.2f}s")
    # The gap is exactly the silence in what was stored: from the dead consumer's last tick to the new run's first.
    ms = timedelta(milliseconds=1)
    assert 0 < (end - start).total_seconds()
    assert abs(max(a for a in arrivals if a <= start + ms) - start) <= ms
    assert abs(min(a for a in arrivals if a > start + ms) - end) <= ms
    assert hb_run == result.run_id
    assert result.output_for_node("run_stream_consumer") is None


def test_only_signal_assets_the_job_holds_are_requested(instance, warehouse_url):
    sensor = build_stream_supervisor(SIGNALS_JOB, [dg.AssetKey("arbitrage_windows")])
    base = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    _ticks(warehouse_url, [0, 1], base)
    beat(
        warehouse_url,
        consumer_run(instance),
        age_s=1,
        last_tick_ms=int((base + timedelta(minutes=1, seconds=10)).timestamp() * 1000),
    )
    ctx = dg.build_sensor_context(
        instance=instance, resources={"warehouse": WarehouseResource(database_url=warehouse_url)}
    )
    result = sensor(ctx)
    assert [r.run_key for r in result.run_requests] == [f"arbitrage_windows:{base.isoformat()}"]
