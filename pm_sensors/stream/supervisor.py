"""The stream supervisor sensor: exactly one live `stream_consumer_job` run, and signal runs from the ticks.

A sensor evaluation must end within ~60 s, so the consumer is not run here: the sensor starts a long-running
run, watches its heartbeat row (heartbeats.part = 'stream_consumer'), terminates a run whose heartbeat went
stale (hung) and starts a fresh one. The decision is a plain function (`supervision_decision`).
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
import orjson

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.urls import mask_secrets

from .job import SINGLETON_TAGS, stream_consumer_job
from .persistence import HEARTBEAT_PART
from .triggers import ARBITRAGE, SPIKES, complete_buckets

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
SIGNAL_BUCKET_S = 60
MAX_SIGNAL_BUCKETS = 15


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


def read_heartbeat(warehouse: WarehouseResource) -> Heartbeat | None:
    with warehouse.connect() as conn:
        row = conn.execute(
            "select last_beat_at, run_id, detail from heartbeats where part = %s", (HEARTBEAT_PART,)
        ).fetchone()
    return Heartbeat(row[0], row[1], row[2] or {}) if row else None


def consumer_runs(instance: dg.DagsterInstance) -> list[ConsumerRun]:
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=STREAM_JOB, statuses=[*ALIVE, dg.DagsterRunStatus.CANCELING])
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
        log.warning(
            mask_secrets(f"stream supervisor: terminate {run_id} failed ({type(exc).__name__}: {exc})")
        )
        asked = False
    if not asked:
        instance.report_run_canceled(run, message=f"stream supervisor: {reason}")
    log.warning(f"stream supervisor: ended run {run_id}: {reason}")


@dataclass
class SupervisorCursor:
    generation: int = 0
    signals_through: str | None = None

    @classmethod
    def load(cls, raw: str | None) -> "SupervisorCursor":
        return cls(**orjson.loads(raw)) if raw else cls()

    def dump(self) -> str:
        return orjson.dumps(self.__dict__).decode()


def _is_partitioned(context: dg.SensorEvaluationContext, key: dg.AssetKey) -> bool:
    repo = context.repository_def
    if repo is None:
        return False
    try:
        return repo.asset_graph.get(key).partitions_def is not None
    except Exception:  # noqa: BLE001 - the asset is not in this repository
        return False


def build_stream_supervisor(
    signals_job: object | None = None,
    signal_keys: list[dg.AssetKey] | None = None,
    *,
    minimum_interval_seconds: int = 15,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
):
    """The sensor; `signals_job` (an asset job over arbitrage_windows and price_spikes) is targeted when given."""
    jobs = [stream_consumer_job] + ([signals_job] if signals_job is not None else [])
    signals_job_name = getattr(signals_job, "name", None)
    wanted = {k.to_user_string() for k in signal_keys} if signal_keys is not None else {ARBITRAGE, SPIKES}

    @dg.sensor(
        name="stream_supervisor_sensor",
        jobs=jobs,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Keeps exactly one stream_consumer_job run alive (restarts it when it dies or its "
        "heartbeat goes stale) and requests arbitrage_windows / price_spikes runs per minute "
        "of stream ticks.",
    )
    def stream_supervisor_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        cursor = SupervisorCursor.load(context.cursor)
        now = time.time()
        beat = read_heartbeat(warehouse)
        decision = supervision_decision(consumer_runs(context.instance), beat, now)
        for run_id in decision.terminate:
            end_run(context.instance, run_id, decision.reason or "duplicate stream consumer", context.log)
        for run_id in decision.mark_canceled:
            run = context.instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                context.instance.report_run_canceled(run, message="stream supervisor: stuck in CANCELING")
        requests: list[dg.RunRequest] = []
        if decision.start:
            cursor.generation += 1
            context.log.warning(
                f"stream supervisor: {decision.reason}; starting generation {cursor.generation}"
            )
            requests.append(
                dg.RunRequest(
                    run_key=f"stream-consumer-{cursor.generation}",
                    job_name=STREAM_JOB,
                    tags={**SINGLETON_TAGS, "pm-intel/stream-start-reason": decision.reason[:250]},
                )
            )
        if signals_job_name is not None:
            requests += _signal_requests(context, warehouse, beat, cursor, signals_job_name, wanted)
        status = _status_line(decision, beat, now)
        context.log.info(f"stream supervisor: {status}")
        if not requests:
            return dg.SensorResult(skip_reason=dg.SkipReason(status), cursor=cursor.dump())
        return dg.SensorResult(run_requests=requests, cursor=cursor.dump())

    return stream_supervisor_sensor


def _signal_requests(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    beat: Heartbeat | None,
    cursor: SupervisorCursor,
    job_name: str,
    wanted: set[str],
) -> list[dg.RunRequest]:
    last_ms = (beat.detail.get("last_tick_ms") if beat else None) or 0
    if not last_ms:
        return []
    last_tick = datetime.fromtimestamp(last_ms / 1000, UTC)
    since = datetime.fromisoformat(cursor.signals_through) if cursor.signals_through else None
    from pm_assets.signals.market_assets import market_run_config

    with warehouse.connect() as conn:
        buckets, through = complete_buckets(
            conn, since=since, last_tick=last_tick, step_s=SIGNAL_BUCKET_S, max_buckets=MAX_SIGNAL_BUCKETS
        )
        # The dashboard's saved threshold overrides apply to stream-triggered runs as to scheduled ones.
        op_configs = market_run_config(conn)["ops"] if buckets else {}
    cursor.signals_through = through.isoformat() if through else cursor.signals_through
    out = []
    for b in buckets:
        if b.asset not in wanted:
            continue
        key = dg.AssetKey(b.asset)
        out.append(
            dg.RunRequest(
                run_key=b.run_key,
                job_name=job_name,
                asset_selection=[key],
                run_config={"ops": {b.asset: op_configs[b.asset]}} if b.asset in op_configs else {},
                partition_key=b.start.strftime("%Y-%m-%d") if _is_partitioned(context, key) else None,
                tags={
                    "pm-intel/stream-bucket-start": b.start.isoformat(),
                    "pm-intel/stream-bucket-end": b.end.isoformat(),
                    "pm-intel/stream-ticks": str(b.ticks),
                },
            )
        )
    return out


def _status_line(decision: Decision, beat: Heartbeat | None, now: float) -> str:
    if beat is None:
        return decision.reason + "; no heartbeat yet"
    d = beat.detail
    return (
        f"{decision.reason}; last beat {now - beat.last_beat_at.timestamp():.0f}s ago, "
        f"connected={d.get('connected')}, assets={d.get('assets')}, messages={d.get('messages')}, "
        f"gaps={d.get('gaps')}, bad_frames={d.get('bad_frames')}, lag_p99_ms={d.get('lag_ms_p99')}"
    )
