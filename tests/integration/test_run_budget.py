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
