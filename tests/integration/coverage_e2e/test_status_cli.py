"""Issue 12: `pm-intel status --json` (the real CLI, in a subprocess) goes red when the stream consumer stops,
and green again once `stream_supervisor_sensor` has restarted it.

The consumer runs as `stream_consumer_job` runs on a test Dagster instance (in a thread, as the run launcher
would run it in a process); the supervisor is evaluated through `dg.build_sensor_context` and its RunRequest is
launched as requested. The first run stops by itself (its max runtime): that is the consumer dying.
"""

from __future__ import annotations

import threading
import time

import dagster as dg
import psycopg

from pm_assets.coverage.assets import coverage_ledger
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_sensors.alerts.delivery_resource import AlertDeliveryResource
from pm_sensors.stream.job import SINGLETON_TAGS, StreamSettingsResource, stream_consumer_job
from pm_sensors.stream.supervisor import build_stream_supervisor
from pm_sim.testing import running_sim
from tests.support.pipeline import HANG_S, Pipeline, cli_status, wait_until
from tests.support.stream import live_tokens, seed_universe

STALE_S = 4.0


def status(url: str) -> dict:
    return cli_status(
        url,
        PM_INTEL_STATUS_PARTS="stream_consumer",
        PM_INTEL_HEARTBEAT_STALE_S_STREAM_CONSUMER=str(STALE_S),
        PM_INTEL_FEED_SILENT_S="3600",
    )


def consumer_age(report: dict) -> float | None:
    beat = report["heartbeats"].get("stream_consumer")
    return None if beat is None else beat["age_s"]


class Launcher:
    """Runs requested stream_consumer_job runs in threads on the test instance."""

    def __init__(self, instance, resources):
        self.instance, self.resources, self.threads = instance, resources, []

    def launch(self, request: dg.RunRequest, max_runtime_s: float) -> None:
        config = {"ops": {"run_stream_consumer": {"config": {"max_runtime_s": max_runtime_s}}}}

        def run() -> None:
            stream_consumer_job.execute_in_process(
                run_config=config,
                instance=self.instance,
                resources=self.resources,
                tags={**SINGLETON_TAGS, **request.tags},
            )

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=HANG_S)


def test_status_red_when_the_consumer_stops_and_green_after_the_supervisor_restarts_it(
    warehouse_url, monkeypatch
):
    start = float(int(time.time()))
    with (
        running_sim(
            markets=16, seed=11, speed=1.0, ws_rate=200.0, trades_per_second=2.0, data_v1=False, start=start
        ) as sim,
        dg.instance_for_test() as instance,
    ):
        seed_universe(warehouse_url, sim)
        monkeypatch.setenv("PM_INTEL_STREAM_SELECTION", "list")
        monkeypatch.setenv("PM_INTEL_STREAM_TOKENS", ",".join(live_tokens(sim, 6)))
        warehouse = WarehouseResource(database_url=warehouse_url)
        launcher = Launcher(
            instance,
            {
                "warehouse": warehouse,
                "stream_settings": StreamSettingsResource(ws_url=sim.ws_url),
                "data_api": DataApiClient(base_url=sim.data_url),
                "alert_delivery": AlertDeliveryResource(),
            },
        )
        supervisor = build_stream_supervisor()
        cursor: list[str | None] = [None]

        def supervise() -> list[dg.RunRequest]:
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor[0], resources={"warehouse": warehouse}
            )
            result = supervisor(context)
            cursor[0] = result.cursor
            return list(result.run_requests or [])

        # The rest of the system is healthy: trades current, the coverage ledger written for today. Real flow is
        # bursty: a burst deeper than one poll opens a loss event, and the repair the sensor requests closes it.
        pipeline = Pipeline(warehouse_url, sim, instance, None)
        pipeline.tick_trade_edge()
        assert pipeline.run_repair().success
        assert dg.materialize(
            [coverage_ledger], resources={"warehouse": warehouse}, instance=instance
        ).success
        assert status(warehouse_url)["overall"] == "red"  # nothing has started the consumer yet

        first = supervise()
        assert len(first) == 1 and first[0].job_name == "stream_consumer_job"
        launcher.launch(first[0], max_runtime_s=6.0)
        green = wait_until(
            lambda: (r := status(warehouse_url))["overall"] == "green" and r,
            "status green",
            pause_s=0.2,
        )
        assert consumer_age(green) <= STALE_S
        assert supervise() == []  # a healthy run: nothing to start

        # Every report on the way to red is kept: the run stops by itself (its max runtime) when it will.
        reports = [status(warehouse_url)]

        def red_yet() -> bool:
            pipeline.tick_trade_edge()
            reports.append(status(warehouse_url))
            return reports[-1]["overall"] == "red"

        if reports[-1]["overall"] != "red":
            wait_until(red_yet, "status red after the consumer stopped", pause_s=0.0)
        red = reports[-1]
        assert consumer_age(red) > STALE_S
        assert any(
            "stream_consumer silent for" in r and f"threshold {STALE_S:.0f} s" in r for r in red["reasons"]
        )
        # Every report on the way agrees with the threshold: green while the beat was fresh, red once stale.
        assert all((r["overall"] == "red") == (consumer_age(r) > STALE_S) for r in reports), reports

        # The supervisor notices (its own run finished) and starts one; status is green again.
        wait_until(lambda: not any(t.is_alive() for t in launcher.threads), "the first run ended")
        restart = supervise()
        assert len(restart) == 1 and restart[0].run_key != first[0].run_key
        launcher.launch(restart[0], max_runtime_s=8.0)
        again = wait_until(
            lambda: (r := status(warehouse_url))["overall"] == "green" and r,
            "status green again",
            pause_s=0.2,
        )
        assert consumer_age(again) <= STALE_S
        launcher.join()
        records = instance.get_run_records(dg.RunsFilter(job_name="stream_consumer_job"))
        assert len(records) == 2 and all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records)
        with psycopg.connect(warehouse_url) as conn:
            beat_run = conn.execute(
                "select run_id from heartbeats where part = 'stream_consumer'"
            ).fetchone()[0]
        assert beat_run == records[0].dagster_run.run_id  # newest first: the restarted run beat last
