"""Supervisor sensors: exactly one live run of a long-running job (the stream consumer, the live driver).

A sensor evaluation must end within ~60 s, so the long work is not done here: the sensor starts a long-running
run, watches its heartbeat row, terminates a run whose heartbeat went stale (hung) and starts a fresh one. The
decision is a plain function (`supervision_decision`). Neither sensor launches any other run: the work the
ticks bring is the live driver's (pm_sensors/live), done in its run, reported as asset events.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime

import dagster as dg
import orjson

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.urls import mask_secrets

from .job import SINGLETON_TAGS, stream_consumer_job
from .persistence import HEARTBEAT_PART

STREAM_JOB = "stream_consumer_job"
ALIVE = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)
STALE_AFTER_S = 45.0  # heartbeat age that means hung (the consumer beats every ~2 s)
STARTUP_GRACE_S = 90.0  # a new run gets this long to write its first heartbeat
CANCEL_GRACE_S = 60.0  # a run stuck in CANCELING this long is marked canceled to free the singleton slot


@dataclass(frozen=True)
class ConsumerRun:
    run_id: str
    status: dg.DagsterRunStatus
    since: float  # start time, or creation time while not started
    updated: float


@dataclass(frozen=True)
class Heartbeat:
    last_beat_at: datetime
    run_id: str | None
    detail: dict


@dataclass
class Decision:
    start: bool = False
    terminate: list[str] = field(default_factory=list)
    mark_canceled: list[str] = field(default_factory=list)
    reason: str = ""
    healthy_run: str | None = None


def supervision_decision(
    runs: list[ConsumerRun],
    beat: Heartbeat | None,
    now: float,
    *,
    stale_after_s: float = STALE_AFTER_S,
    startup_grace_s: float = STARTUP_GRACE_S,
    cancel_grace_s: float = CANCEL_GRACE_S,
) -> Decision:
    d = Decision()
    canceling = [r for r in runs if r.status == dg.DagsterRunStatus.CANCELING]
    d.mark_canceled = [r.run_id for r in canceling if now - r.updated > cancel_grace_s]
    alive = sorted((r for r in runs if r.status in ALIVE), key=lambda r: r.since)
    if not alive:
        d.start, d.reason = True, "no stream consumer run" + (" (one is being canceled)" if canceling else "")
        return d
    keep, extras = alive[0], alive[1:]
    d.terminate = [r.run_id for r in extras]
    if keep.status != dg.DagsterRunStatus.STARTED:
        d.reason = f"consumer run {keep.run_id} is {keep.status.value}"
        d.healthy_run = keep.run_id
        return d
    age = now - keep.since
    if beat is not None and beat.run_id == keep.run_id:
        beat_age = now - beat.last_beat_at.timestamp()
        if beat_age <= stale_after_s:
            d.reason, d.healthy_run = (
                f"consumer run {keep.run_id} healthy, heartbeat {beat_age:.0f}s old",
                keep.run_id,
            )
            return d
        why = f"heartbeat of run {keep.run_id} is {beat_age:.0f}s old (limit {stale_after_s:.0f}s)"
    elif age <= startup_grace_s:
        d.reason, d.healthy_run = (
            f"consumer run {keep.run_id} starting ({age:.0f}s, no heartbeat yet)",
            keep.run_id,
        )
        return d
    else:
        why = f"run {keep.run_id} has written no heartbeat in {age:.0f}s"
    d.terminate.insert(0, keep.run_id)
    d.start, d.reason = True, f"restarting the stream consumer: {why}"
    return d


def read_heartbeat(warehouse: WarehouseResource, part: str = HEARTBEAT_PART) -> Heartbeat | None:
    with warehouse.connect() as conn:
        row = conn.execute(
            "select last_beat_at, run_id, detail from heartbeats where part = %s", (part,)
        ).fetchone()
    return Heartbeat(row[0], row[1], row[2] or {}) if row else None


def consumer_runs(instance: dg.DagsterInstance, job_name: str = STREAM_JOB) -> list[ConsumerRun]:
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, statuses=[*ALIVE, dg.DagsterRunStatus.CANCELING])
    )
    return [
        ConsumerRun(
            r.dagster_run.run_id,
            r.dagster_run.status,
            r.start_time or r.create_timestamp.timestamp(),
            r.update_timestamp.timestamp(),
        )
        for r in records
    ]


def end_run(instance: dg.DagsterInstance, run_id: str, reason: str, log) -> None:
    """Ask the launcher to terminate the run; if it cannot, mark it canceled so the singleton slot frees."""
    run = instance.get_run_by_id(run_id)
    if run is None or run.is_finished:
        return
    try:
        asked = instance.run_coordinator.cancel_run(run_id)
    except Exception as exc:  # noqa: BLE001 - a launcher that cannot terminate is handled just below
        log.warning(mask_secrets(f"supervisor: terminate {run_id} failed ({type(exc).__name__}: {exc})"))
        asked = False
    if not asked:
        instance.report_run_canceled(run, message=f"supervisor: {reason}")
    log.warning(f"supervisor: ended run {run_id}: {reason}")


@dataclass
class SupervisorCursor:
    generation: int = 0

    @classmethod
    def load(cls, raw: str | None) -> "SupervisorCursor":
        # Cursors of earlier versions carried more fields (signals_through): only the generation counts.
        return cls(generation=int(orjson.loads(raw).get("generation", 0))) if raw else cls()

    def dump(self) -> str:
        return orjson.dumps(self.__dict__).decode()


def build_supervisor(
    name: str,
    job: dg.JobDefinition,
    heartbeat_part: str,
    tags: dict[str, str],
    description: str,
    *,
    run_key_prefix: str,
    stale_after_s: float = STALE_AFTER_S,
    startup_grace_s: float = STARTUP_GRACE_S,
    minimum_interval_seconds: int = 15,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
):
    """A sensor keeping exactly one run of `job` alive, judged by the heartbeat row `heartbeat_part`."""

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=description,
    )
    def supervisor_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        cursor = SupervisorCursor.load(context.cursor)
        now = time.time()
        beat = read_heartbeat(warehouse, heartbeat_part)
        decision = supervision_decision(
            consumer_runs(context.instance, job.name),
            beat,
            now,
            stale_after_s=stale_after_s,
            startup_grace_s=startup_grace_s,
        )
        for run_id in decision.terminate:
            end_run(context.instance, run_id, decision.reason or f"duplicate {job.name} run", context.log)
        for run_id in decision.mark_canceled:
            run = context.instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                context.instance.report_run_canceled(run, message="supervisor: stuck in CANCELING")
        status = _status_line(decision, beat, now)
        context.log.info(f"{name}: {status}")
        if not decision.start:
            return dg.SensorResult(skip_reason=dg.SkipReason(status), cursor=cursor.dump())
        cursor.generation += 1
        context.log.warning(f"{name}: {decision.reason}; starting generation {cursor.generation}")
        request = dg.RunRequest(
            run_key=f"{run_key_prefix}-{cursor.generation}",
            job_name=job.name,
            tags={**tags, f"pm-intel/{run_key_prefix.split('-')[0]}-start-reason": decision.reason[:250]},
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor.dump())

    return supervisor_sensor


def build_stream_supervisor(**kwargs):
    """Keeps exactly one stream_consumer_job run alive."""
    return build_supervisor(
        "stream_supervisor_sensor",
        stream_consumer_job,
        HEARTBEAT_PART,
        SINGLETON_TAGS,
        "Keeps exactly one stream_consumer_job run alive (restarts it when it dies or its heartbeat goes stale).",
        run_key_prefix="stream-consumer",
        **kwargs,
    )


def _status_line(decision: Decision, beat: Heartbeat | None, now: float) -> str:
    if beat is None:
        return decision.reason + "; no heartbeat yet"
    d = beat.detail
    if "connected" not in d:  # not the stream's heartbeat: its age and whether the last pass was ok
        return (
            f"{decision.reason}; last beat {now - beat.last_beat_at.timestamp():.0f}s ago, ok={d.get('ok')}"
        )
    return (
        f"{decision.reason}; last beat {now - beat.last_beat_at.timestamp():.0f}s ago, "
        f"connected={d.get('connected')}, assets={d.get('assets')}, messages={d.get('messages')}, "
        f"gaps={d.get('gaps')}, bad_frames={d.get('bad_frames')}, lag_p99_ms={d.get('lag_ms_p99')}"
    )
