"""The stream's insider fast lane: a trade tick alone brings the fill, the fresh-wallet signal and its alert, with
no scheduled sensor running; the scheduled path afterwards changes nothing (no duplicate signal or alert)."""

from __future__ import annotations

from contextlib import ExitStack

import dagster as dg
import psycopg
import pytest

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.signals.insider_sensor import ASSETS, insider_signals_sensor
from pm_assets.wallets.assets import wallets
from pm_sensors.alerts.delivery import DeliverySettings
from pm_sensors.alerts.receiver import running_receiver
from pm_sensors.alerts.sensor import AlertDeliveryResource, alert_delivery_sensor
from pm_sensors.ingestion.trade_edge import trade_live_edge_sensor
from pm_sensors.stream.insider_fast_lane import FastLaneSettings, InsiderFastLane
from pm_sensors.stream.settings import StreamSettings, settings_from_env
from pm_sim.testing import running_sim
from tests import loopback
from tests.coverage_e2e.harness import add_rule, wait_until
from tests.stream.conftest import ConsumerThread, seed_universe

# Seed 3 plants a fresh-wallet insider 903 s after the history ends (checked below, not assumed).
SIM = {"seed": 3, "markets": 60, "history_hours": 1.0, "horizon_hours": 1.0, "trades_per_second": 2.0}


def _planted_future_insider(sim) -> dict:
    now = loopback.get(sim.admin_url + "/state").json()["now"]
    records = loopback.get(sim.admin_url + "/ground-truth", params={"all": 1}).json()["records"]
    future = [r for r in records if r["kind"] == "fresh_wallet_insider" and r["start_ts"] > now]
    assert future, "the seeded world has no fresh-wallet insider after its history"
    return min(future, key=lambda r: r["start_ts"])


def _synced(sim, now: float) -> float:
    """Wait until the consumer's socket has streamed up to `now` (the lane runs in the same process: be patient)."""
    wait_until(
        lambda: all(
            c["synced_to"] >= now
            for c in loopback.get(sim.admin_url + "/state", timeout=60).json()["ws_connections"]
            or [{"synced_to": 0}]
        ),
        "the ws stream to catch up with the sim clock",
    )
    return now


def _alerted_wallets(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            r[0]
            for r in conn.execute(
                "select f.wallet from alert_deliveries d join fresh_wallet_trades f on f.signal_key = d.signal_key "
                "where d.signal_table = 'fresh_wallet_trades' and d.status = 'delivered' order by d.delivery_id"
            )
        ]


def _delivery_times(url: str, wallet: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select d.upstream_at, d.ingested_at, d.signal_at, d.delivered_at from alert_deliveries d "
            "join fresh_wallet_trades f on f.signal_key = d.signal_key where f.wallet = %s",
            (wallet,),
        ).fetchone()


def test_a_trade_tick_alone_delivers_the_fresh_wallet_alert_once(warehouse_url):
    with ExitStack() as stack, running_sim(speed=0.0, **SIM) as sim, running_receiver() as receiver:
        planted = _planted_future_insider(sim)
        seed_universe(warehouse_url, sim)
        add_rule(warehouse_url, "fresh wallets", "fresh_wallet", receiver.url("/fresh"))
        warehouse = WarehouseResource(database_url=warehouse_url)
        data_api = DataApiClient(base_url=sim.data_url, page_limit=100)
        instance = stack.enter_context(dg.instance_for_test())
        lane = InsiderFastLane(
            warehouse,
            data_api,
            DeliverySettings(allow_private=True),
            FastLaneSettings(min_gap_s=0.2, max_pages=20),
            run_id="stream-run",
            instance=instance,
        )
        settings = StreamSettings(ws_url=sim.ws_url, selection="active")
        ct = ConsumerThread(settings, warehouse_url)
        ct.consumer.on_commit = lane.on_commit
        lane.start()
        try:
            with ct:
                now = _synced(sim, loopback.get(sim.admin_url + "/state", timeout=60).json()["now"])
                # Time flows to just past the planted trade in steps, as it would live.
                while now < planted["end_ts"] + 2:
                    now = _synced(
                        sim,
                        loopback.post(sim.admin_url + "/clock", json={"advance": 60}, timeout=60).json()[
                            "now"
                        ],
                    )
                wait_until(
                    lambda: planted["wallet"] in _alerted_wallets(warehouse_url),
                    f"the fast lane's alert for planted wallet {planted['wallet']}",
                )
        finally:
            lane.halt()
        assert lane.failures == 0 and lane.passes > 0
        # The UI shows the lane's work: a runless materialization of each asset it evaluated, from that stream run.
        for asset in ("wallets", "fresh_wallet_trades", "size_anomalies", "trade_risk_scores"):
            event = instance.get_latest_materialization_event(dg.AssetKey(asset))
            assert event is not None and event.run_id == "", asset
            metadata = event.asset_materialization.metadata
            assert metadata["source"].value == "stream insider fast lane"
            assert metadata["stream_run_id"].value == "stream-run" and metadata["passes"].value >= 1

        upstream_at, ingested_at, signal_at, delivered_at = _delivery_times(warehouse_url, planted["wallet"])
        assert int(upstream_at.timestamp()) in range(planted["start_ts"], planted["end_ts"] + 1)
        assert upstream_at <= ingested_at <= signal_at <= delivered_at
        bodies = [r.body for r in receiver.delivered("/fresh")]
        assert sum(1 for b in bodies if planted["wallet"] in str(b)) == 1
        with psycopg.connect(warehouse_url) as conn:
            beat = conn.execute("select detail from heartbeats where part = 'insider_fast_lane'").fetchone()[
                0
            ]
        assert beat["ok"] is True
        with psycopg.connect(
            warehouse_url
        ) as conn:  # the alert sensor's heartbeat is its own, not kept alive here
            assert (
                conn.execute("select count(*) from heartbeats where part = 'alert_delivery'").fetchone()[0]
                == 0
            )

        # The scheduled path (sensor, job's assets, alert sensor) over the same data adds nothing.
        before = _alerted_wallets(warehouse_url)
        with psycopg.connect(warehouse_url) as conn:
            signals_before = conn.execute("select count(*) from fresh_wallet_trades").fetchone()[0]
        resources = {
            "warehouse": warehouse,
            "data_api": data_api,
            "alert_delivery": AlertDeliveryResource(allow_private_webhooks=True),
        }
        with dg.instance_for_test() as instance:
            with dg.build_sensor_context(instance=instance, resources=resources) as ctx:
                request = insider_signals_sensor(ctx)
            assert isinstance(request, dg.SkipReason)  # the fast lane moved the watermarks
            assert dg.materialize([wallets, *ASSETS], resources=resources, instance=instance).success
            with dg.build_sensor_context(instance=instance, resources=resources) as ctx:
                alert_delivery_sensor(ctx)
        with psycopg.connect(warehouse_url) as conn:
            assert conn.execute("select count(*) from fresh_wallet_trades").fetchone()[0] == signals_before
        assert _alerted_wallets(warehouse_url) == before
        assert sum(1 for r in receiver.delivered("/fresh") if planted["wallet"] in str(r.body)) == 1


def test_a_pass_evaluates_fills_the_live_edge_sensor_stored_first(warehouse_url):
    # Both poll the feed's live edge; when the sensor's poll wins, the lane's finds nothing new, yet the fills are
    # still unevaluated and the lane must not leave them to the scheduled path.
    with running_sim(speed=0.0, **SIM) as sim:
        planted = _planted_future_insider(sim)
        seed_universe(warehouse_url, sim)
        now = loopback.get(sim.admin_url + "/state", timeout=60).json()["now"]
        loopback.post(sim.admin_url + "/clock", json={"advance": planted["end_ts"] + 2 - now}, timeout=60)
        warehouse = WarehouseResource(database_url=warehouse_url)
        data_api = DataApiClient(base_url=sim.data_url, page_limit=100)
        with dg.build_sensor_context(
            resources={"warehouse": warehouse, "data_api": data_api}, sensor_name="trade_live_edge_sensor"
        ) as ctx:
            trade_live_edge_sensor(ctx)
        with psycopg.connect(warehouse_url) as conn:
            stored = conn.execute(
                "select count(*) from trades where wallet = %s", (planted["wallet"],)
            ).fetchone()
        assert stored[0] > 0, "the sensor's poll did not store the planted fills"
        lane = InsiderFastLane(warehouse, data_api, DeliverySettings(allow_private=True), FastLaneSettings())
        report = lane.pass_once()
    assert report.fills == 0 and report.signal_rows > 0
    with psycopg.connect(warehouse_url) as conn:
        fresh = [
            r[0]
            for r in conn.execute("select wallet from fresh_wallet_trades where suppressed_reason is null")
        ]
    assert planted["wallet"] in fresh


def test_fast_lane_is_a_stream_setting():
    assert StreamSettings().insider_fast_lane is True
    assert settings_from_env({"PM_INTEL_STREAM_INSIDER_FAST_LANE": "off"}).insider_fast_lane is False
    with pytest.raises(ValueError, match="PM_INTEL_STREAM_INSIDER_FAST_LANE='maybe'"):
        settings_from_env({"PM_INTEL_STREAM_INSIDER_FAST_LANE": "maybe"})


def test_a_failing_feed_backs_off_says_why_and_recovers(warehouse_url):
    with running_sim(speed=0.0, **SIM) as sim:
        seed_universe(warehouse_url, sim)
        warehouse = WarehouseResource(database_url=warehouse_url)
        lane = InsiderFastLane(
            warehouse,
            DataApiClient(base_url=sim.data_url, max_attempts=2, max_backoff_s=0.5),
            DeliverySettings(allow_private=True),
            FastLaneSettings(min_gap_s=0.0, feed_retries=0),
        )
        tick = {"ws_last_trades": [("2026-11-20 00:00:00.000+00",)]}

        def beat() -> dict:
            with psycopg.connect(warehouse_url) as conn:
                row = conn.execute(
                    "select detail from heartbeats where part = 'insider_fast_lane'"
                ).fetchone()
            return row[0] if row else {}

        sim.set_faults(**{"5xx": 1.0, "only": "/data"})
        lane.start()
        try:
            lane.on_commit(tick, 0.0)
            failed = wait_until(lambda: beat().get("ok") is False and beat(), "a failed pass's heartbeat")
            assert failed["ok"] is False and "50" in failed["error"] and failed["failed_in_a_row"] >= 1
            with psycopg.connect(warehouse_url) as conn:
                assert conn.execute("select count(*) from trades").fetchone()[0] == 0
            sim.set_faults()
            wait_until(
                lambda: lane.passes >= 1,
                "a pass after recovery",
                step=lambda: lane.on_commit(tick, 0.0),
            )
        finally:
            lane.halt()
        assert beat()["ok"] is True
        with psycopg.connect(warehouse_url) as conn:
            assert conn.execute("select count(*) from trades").fetchone()[0] > 0
