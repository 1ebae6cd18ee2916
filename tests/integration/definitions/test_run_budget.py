"""The run budget: in steady state pm-intel launches at most ~300 runs a day, so run history stays readable.

A simulated hour: every schedule's cron ticks over a day (from its cron string and time zone) and every
run-launching sensor evaluated through `build_sensor_context` for one hour of its ticks (3600 s / its minimum
interval) against a warehouse in steady state (the stream consumer and the live run alive and beating, no open
loss event); the hour's sensor runs are scaled to a day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
from dagster._core.test_utils import create_run_for_test
from dagster._utils.schedules import cron_string_iterator

from pm_assets.definitions import defs
from pm_assets.resources.warehouse import WarehouseResource

BUDGET_PER_DAY = 300
DAY = datetime(2026, 11, 20, tzinfo=UTC)


def scheduled_runs_per_day() -> dict[str, int]:
    out = {}
    for schedule in defs.schedules:
        ticks = cron_string_iterator(
            (DAY - timedelta(seconds=1)).timestamp(),
            schedule.cron_schedule,
            schedule.execution_timezone or "UTC",
        )
        out[schedule.name] = _count(ticks)
    return out


def _count(ticks) -> int:
    n = 0
    for tick in ticks:
        if tick >= DAY + timedelta(days=1):
            return n
        n += 1
    return n


def steady_state(instance: dg.DagsterInstance, url: str) -> None:
    """The two long-lived runs alive, each with a fresh heartbeat of its own run."""
    with psycopg.connect(url) as conn:
        for job, tag, part in (
            ("stream_consumer_job", "stream", "stream_consumer"),
            ("live_job", "live", "live_driver"),
        ):
            run = create_run_for_test(
                instance, job_name=job, status=dg.DagsterRunStatus.STARTED, tags={"pm-intel/singleton": tag}
            )
            conn.execute(
                "insert into heartbeats (part, last_beat_at, run_id, detail) values (%s, now(), %s, '{\"ok\": true}')",
                (part, run.run_id),
            )


def sensor_runs_in_an_hour(instance: dg.DagsterInstance, url: str) -> dict[str, int]:
    resources = {"warehouse": WarehouseResource(database_url=url)}
    out = {}
    for sensor in defs.sensors:
        if not sensor.targets:
            continue  # launches nothing (the dead-man's switch sends messages)
        cursor, runs = None, 0
        for _ in range(3600 // sensor.minimum_interval_seconds):
            ctx = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
            result = sensor(ctx)
            cursor = ctx.cursor
            requests = getattr(result, "run_requests", None) or (
                [result] if isinstance(result, dg.RunRequest) else []
            )
            runs += len(requests)
        out[sensor.name] = runs
    return out


def test_a_simulated_day_fits_the_run_budget(warehouse_url):
    scheduled = scheduled_runs_per_day()
    with dg.instance_for_test() as instance:
        steady_state(instance, warehouse_url)
        per_hour = sensor_runs_in_an_hour(instance, warehouse_url)
    per_day = sum(scheduled.values()) + 24 * sum(per_hour.values())
    print(f"runs per day: {per_day} (scheduled {scheduled}, sensors per hour {per_hour})")
    assert set(per_hour) >= {"stream_supervisor_sensor", "live_supervisor_sensor", "trade_loss_repair_sensor"}
    assert scheduled["universe_refresh_schedule"] == 96  # the counting itself: every 15 minutes
    assert per_day <= BUDGET_PER_DAY, (scheduled, per_hour)


def test_nothing_high_frequency_is_a_run():
    """No schedule fires more often than every 15 minutes: minute-scale work is the live run's, in-process."""
    for name, runs in scheduled_runs_per_day().items():
        assert runs <= 96, name


def test_a_run_a_user_launches_is_never_blocked_by_the_scheduled_work():
    """With the queue's own limits (dagster.yaml) and everything the system launches by itself in progress (both
    long-lived runs, a scheduled run, a loss repair, two backfill runs), a user's run still has a slot and no tag
    blocks it, while a second scheduled run waits; the queue is read every second."""
    from types import SimpleNamespace

    import yaml
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    from pm_assets.cli.dagster_instance import PROJECT_DIR

    queue = yaml.safe_load((PROJECT_DIR / "dagster.yaml").read_text())["run_coordinator"]["config"]
    run = lambda **tags: SimpleNamespace(tags=tags)  # noqa: E731 - the counter reads only a run's tags
    in_progress = [
        run(**{"pm-intel/singleton": "stream", "dagster/sensor_name": "stream_supervisor_sensor"}),
        run(**{"pm-intel/singleton": "live", "dagster/sensor_name": "live_supervisor_sensor"}),
        run(**{"dagster/schedule_name": "universe_refresh_schedule"}),
        run(**{"dagster/sensor_name": "trade_loss_repair_sensor"}),
        run(**{"dagster/backfill": "abc"}),
        run(**{"dagster/backfill": "abc"}),
    ]
    counter = TagConcurrencyLimitsCounter(queue["tag_concurrency_limits"], [])
    for r in in_progress:  # each of them was admitted in turn
        assert not counter.is_blocked(r), r.tags
        counter.update_counters_with_launched_item(r)
    assert len(in_progress) < queue["max_concurrent_runs"]
    assert not counter.is_blocked(run())  # a Launchpad run
    assert counter.is_blocked(run(**{"dagster/schedule_name": "market_signals_schedule"}))
    assert counter.is_blocked(
        run(**{"pm-intel/singleton": "live", "dagster/sensor_name": "live_supervisor_sensor"})
    )
    assert queue["dequeue_interval_seconds"] <= 2
