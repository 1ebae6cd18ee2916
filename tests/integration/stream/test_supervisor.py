"""The stream supervisor sensor on a real DagsterInstance, and the gap across a supervised restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import orjson
import psycopg
import pytest
from dagster._core.test_utils import create_run_for_test

from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.stream.job import SINGLETON_TAGS, StreamSettingsResource, stream_consumer_job
from pm_sensors.stream.persistence import TICK_TABLES
from pm_sensors.stream.settings import StreamSettings
from pm_sensors.stream.supervisor import build_stream_supervisor
from pm_sim.testing import running_sim
from tests.support.stream import ConsumerThread, live_tokens

SENSOR = build_stream_supervisor()


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


def test_the_stream_supervisor_launches_nothing_but_the_consumer(instance, warehouse_url):
    """Signal work from the ticks is the live driver's (in its run, as asset events): no run a minute here."""
    beat(warehouse_url, consumer_run(instance), age_s=1, last_tick_ms=1)
    result = evaluate(instance, warehouse_url)
    assert not result.run_requests
    assert [j.name for j in SENSOR.jobs] == ["stream_consumer_job"]


def test_the_live_supervisor_keeps_one_live_run_by_its_own_heartbeat(instance, warehouse_url):
    from pm_sensors.live.registry import live_supervisor_sensor

    ctx = dg.build_sensor_context(
        instance=instance, resources={"warehouse": WarehouseResource(database_url=warehouse_url)}
    )
    [request] = live_supervisor_sensor(ctx).run_requests
    assert request.job_name == "live_job" and request.tags["pm-intel/singleton"] == "live"
    run_id = create_run_for_test(
        instance, job_name="live_job", status=dg.DagsterRunStatus.STARTED, tags=request.tags
    ).run_id
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into heartbeats (part, last_beat_at, run_id, detail) values ('live_driver', now(), %s, "
            "'{\"ok\": true}')",
            (run_id,),
        )
    result = live_supervisor_sensor(ctx)
    assert not result.run_requests and "healthy" in result.skip_reason.skip_message


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
