"""The live driver: a stored trade tick wakes it (the consumer's NOTIFY) and one pass brings the fill, the
fresh-wallet signal and its alert, once; what it writes shows in Dagster as runless materializations; its
periodic tasks do the minute-scale work and report it the same way; a failing feed backs off and recovers."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import UTC, datetime

import dagster as dg
import httpx
import psycopg

from pm_assets.resources.clob import ClobClient
from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.trades.sql import open_loss_event
from pm_sensors.alerts.delivery import DeliverySettings
from pm_sensors.alerts.receiver import running_receiver
from pm_sensors.live.driver import LiveDriver
from pm_sensors.live.periodic import LIVE_CHECKS, TASKS
from pm_sensors.stream.settings import StreamSettings
from pm_sim.testing import running_sim
from tests.support.pipeline import add_rule, wait_until
from tests.support.stream import ConsumerThread, seed_universe

# Seed 3 plants a fresh-wallet insider 903 s after the history ends (checked below, not assumed).
SIM = {"seed": 3, "markets": 60, "history_hours": 1.0, "horizon_hours": 1.0, "trades_per_second": 2.0}
# Long enough that only the consumer's NOTIFY can wake a pass while the test waits for one.
NO_TIMER_S = 3600.0


def _planted_future_insider(sim) -> dict:
    now = httpx.get(sim.admin_url + "/state", timeout=60).json()["now"]
    records = httpx.get(sim.admin_url + "/ground-truth", params={"all": 1}, timeout=60).json()["records"]
    future = [r for r in records if r["kind"] == "fresh_wallet_insider" and r["start_ts"] > now]
    assert future, "the seeded world has no fresh-wallet insider after its history"
    return min(future, key=lambda r: r["start_ts"])


def _synced(sim, now: float) -> float:
    wait_until(
        lambda: all(
            c["synced_to"] >= now
            for c in httpx.get(sim.admin_url + "/state", timeout=60).json()["ws_connections"]
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


class DriverThread:
    def __init__(self, driver: LiveDriver):
        self.driver, self.stop = driver, threading.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.error: BaseException | None = None

    def _main(self) -> None:
        try:
            self.driver.run(self.stop)
        except BaseException as exc:  # surfaced by __exit__
            self.error = exc

    def __enter__(self) -> DriverThread:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the live driver did not stop"
        if self.error is not None:
            raise self.error


def test_a_stored_trade_tick_wakes_the_one_pass_that_delivers_the_alert_once(warehouse_url):
    with ExitStack() as stack, running_sim(speed=0.0, **SIM) as sim, running_receiver() as receiver:
        planted = _planted_future_insider(sim)
        seed_universe(warehouse_url, sim)
        add_rule(warehouse_url, "fresh wallets", "fresh_wallet", receiver.url("/fresh"))
        warehouse = WarehouseResource(database_url=warehouse_url)
        instance = stack.enter_context(dg.instance_for_test())
        driver = LiveDriver(
            warehouse,
            DataApiClient(base_url=sim.data_url, page_limit=100),
            ClobClient(base_url=sim.clob_url),
            DeliverySettings(allow_private=True),
            instance=instance,
            run_id="live-run",
            poll_interval_s=NO_TIMER_S,
            tasks=(),
        )
        ct = ConsumerThread(StreamSettings(ws_url=sim.ws_url, selection="active"), warehouse_url)
        with DriverThread(driver), ct:
            now = _synced(sim, httpx.get(sim.admin_url + "/state", timeout=60).json()["now"])
            while now < planted["end_ts"] + 2:  # time flows past the planted trade in steps, as it would live
                now = _synced(
                    sim, httpx.post(sim.admin_url + "/clock", json={"advance": 60}, timeout=60).json()["now"]
                )
            wait_until(
                lambda: planted["wallet"] in _alerted_wallets(warehouse_url),
                f"the live pass's alert for planted wallet {planted['wallet']}",
            )
        assert driver.failures == 0 and driver.passes > 0
        # No timer fired: every pass after the run's first (its catch-up at start) came from a stored tick.
        assert driver.woken_by_notify == driver.passes - 1
        bodies = [r.body for r in receiver.delivered("/fresh")]
        assert sum(1 for b in bodies if planted["wallet"] in str(b)) == 1

        # The UI shows the pass's work: runless materializations reported by the live run, trades by partition.
        day = instance.get_latest_materialization_event(dg.AssetKey("trades")).asset_materialization.partition
        assert day is not None and len(day) == 10
        for asset in ("trades", "wallets", "fresh_wallet_trades", "trade_risk_scores"):
            event = instance.get_latest_materialization_event(dg.AssetKey(asset))
            assert event is not None and event.run_id == "", asset
            metadata = event.asset_materialization.metadata
            assert metadata["reported_by"].value == "live_job run live-run" and metadata["writes"].value >= 1
        trades_meta = instance.get_latest_materialization_event(dg.AssetKey("trades")).asset_materialization
        assert trades_meta.metadata["rows_inserted"].value > 0
        with psycopg.connect(warehouse_url) as conn:
            beats = dict(conn.execute("select part, detail from heartbeats").fetchall())
        assert beats["live_driver"]["ok"] is True and beats["trade_poll"]["ok"] is True
        assert "alert_delivery" in beats  # delivery's own heartbeat, which `pm-intel status` reads


def test_periodic_tasks_write_and_report_every_asset_they_own(warehouse_url):
    with ExitStack() as stack, running_sim(speed=0.0, **SIM) as sim:
        seed_universe(warehouse_url, sim)
        instance = stack.enter_context(dg.instance_for_test())
        driver = LiveDriver(
            WarehouseResource(database_url=warehouse_url),
            DataApiClient(base_url=sim.data_url, page_limit=100),
            ClobClient(base_url=sim.clob_url),
            DeliverySettings(allow_private=True),
            instance=instance,
            run_id="live-run",
            poll_interval_s=NO_TIMER_S,
        )
        with DriverThread(driver):
            wait_until(
                lambda: all(n >= 1 for n in driver.task_runs.values()) or driver.task_errors,
                "every periodic task to run once",
            )
        assert not driver.task_errors
        assert driver.task_runs.keys() == {t.name for t in TASKS}
        for asset in (
            "order_book_snapshots",
            "arbitrage_windows",
            "price_spikes",
            "trade_reconciliation",
            "coverage_ledger",
            "coverage_daily",
            "market_volume_daily",
            "wallet_positions",
        ):
            event = instance.get_latest_materialization_event(dg.AssetKey(asset))
            assert event is not None and event.run_id == "", asset
        books = instance.get_latest_materialization_event(dg.AssetKey("order_book_snapshots"))
        assert books.asset_materialization.metadata["rows_inserted"].value > 0


def test_a_failing_feed_backs_off_says_why_and_recovers(warehouse_url):
    with running_sim(speed=0.0, **SIM) as sim:
        seed_universe(warehouse_url, sim)
        driver = LiveDriver(
            WarehouseResource(database_url=warehouse_url),
            DataApiClient(base_url=sim.data_url, max_attempts=2, max_backoff_s=0.5),
            ClobClient(base_url=sim.clob_url),
            DeliverySettings(allow_private=True),
            poll_interval_s=0.2,
            min_gap_s=0.0,
            tasks=(),
        )

        def beat() -> dict:
            with psycopg.connect(warehouse_url) as conn:
                row = conn.execute("select detail from heartbeats where part = 'live_driver'").fetchone()
            return row[0] if row else {}

        sim.set_faults(**{"5xx": 1.0, "only": "/data"})
        with DriverThread(driver):
            failed = wait_until(lambda: beat().get("ok") is False and beat(), "a failed pass's heartbeat")
            assert "50" in failed["error"] and failed["failed_in_a_row"] >= 1
            with psycopg.connect(warehouse_url) as conn:
                assert conn.execute("select count(*) from trades").fetchone()[0] == 0
            sim.set_faults()
            wait_until(lambda: driver.passes >= 1, "a pass after recovery")
        assert beat()["ok"] is True
        with psycopg.connect(warehouse_url) as conn:
            assert conn.execute("select count(*) from trades").fetchone()[0] > 0


def test_the_driver_beats_before_its_first_pass(warehouse_url):
    """Issue 17: on a busy machine the first pass (a whole lookback of fills) outlasted the supervisor's startup
    grace with no heartbeat written, so every live run was ended before it beat, and status stayed red."""
    with running_sim(speed=0.0, **SIM) as sim:
        seed_universe(warehouse_url, sim)
        driver = LiveDriver(
            WarehouseResource(database_url=warehouse_url),
            DataApiClient(base_url=sim.data_url),
            ClobClient(base_url=sim.clob_url),
            DeliverySettings(allow_private=True),
            poll_interval_s=0.2,
            tasks=(),
        )

        def beat() -> dict:
            with psycopg.connect(warehouse_url) as conn:
                row = conn.execute("select detail from heartbeats where part = 'live_driver'").fetchone()
            return row[0] if row else {}

        sim.set_faults(slow=2.0, only="/data")  # every Data API answer late: the first pass is long
        with DriverThread(driver):
            wait_until(lambda: beat().get("starting"), "the driver's first beat")
            assert driver.passes == 0  # beating while its first pass is still reading the feed
            sim.set_faults()
            wait_until(lambda: driver.passes >= 1 and beat().get("ok"), "a pass's heartbeat")
        assert beat()["ok"] is True


def test_a_beat_between_steps_keeps_the_last_verdict(warehouse_url):
    """A touch says "alive, working"; whether the part does its job stays what its last beat said."""
    from datetime import UTC, datetime

    from pm_assets.storage import heartbeats

    since = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(warehouse_url) as conn:
        heartbeats.beat_failure(
            conn, "live_driver", {"error": "refused"}, attempt_started=since, unreachable=True
        )
        heartbeats.touch(conn, "live_driver", {"last_step": "feed"})
        detail = conn.execute("select detail from heartbeats where part = 'live_driver'").fetchone()[0]
    assert detail["ok"] is False and detail["last_step"] == "feed"
    assert datetime.fromisoformat(detail["failing_since"]) == since


def test_the_reporter_sums_counts_over_its_minute_and_keeps_the_latest_time():
    from pm_sensors.live.driver import AssetReporter

    with dg.instance_for_test() as instance:
        reporter = AssetReporter(instance, "live-run")
        reporter.add("trades", {"rows_inserted": 3, "newest_s": 100, "stop_reason": "feed_end"}, "2026-11-20")
        reporter.add(
            "trades", {"rows_inserted": 4, "newest_s": 160, "stop_reason": "reached_frontier"}, "2026-11-20"
        )
        assert reporter.flush() == 0  # within its minute: nothing reported yet
        assert reporter.flush(force=True) == 1
        event = instance.get_latest_materialization_event(dg.AssetKey("trades")).asset_materialization
    assert event.partition == "2026-11-20"
    values = {k: v.value for k, v in event.metadata.items()}
    assert values["rows_inserted"] == 7 and values["writes"] == 2
    assert values["newest_s"] == 160 and values["stop_reason"] == "reached_frontier"


def _latest_check(instance: dg.DagsterInstance, name: str):
    return instance.get_latest_asset_check_evaluation_record(dg.AssetCheckKey(dg.AssetKey("trades"), name))


def test_the_driver_reports_the_trades_checks_it_can_afford_as_runless_evaluations(warehouse_url):
    """After a pass that wrote fills, the checks beside `trades` (their own functions) show in Dagster without a
    run; an unrepaired loss event turns the completeness check red on the next round."""
    trade_checks = [c for c in LIVE_CHECKS if c.asset == "trades"]
    with ExitStack() as stack, running_sim(speed=0.0, **SIM) as sim:
        seed_universe(warehouse_url, sim)
        instance = stack.enter_context(dg.instance_for_test())
        driver = LiveDriver(
            WarehouseResource(database_url=warehouse_url),
            DataApiClient(base_url=sim.data_url, page_limit=100),
            ClobClient(base_url=sim.clob_url),
            DeliverySettings(allow_private=True),
            instance=instance,
            run_id="live-run",
            poll_interval_s=0.2,
            tasks=(),
            checks=trade_checks,
            checks_every_s=0.5,
        )
        with DriverThread(driver):
            records = wait_until(
                lambda: (
                    all(_latest_check(instance, c.name) for c in trade_checks)
                    and [_latest_check(instance, c.name) for c in trade_checks]
                ),
                "the driver's first evaluation of the trades checks",
            )
            with psycopg.connect(warehouse_url) as conn:
                assert conn.execute("select count(*) from trades").fetchone()[0] > 0
            for record in records:
                assert record.run_id == "" and record.evaluation.passed is True, record.evaluation
            fresh = _latest_check(instance, "trades_fresh").evaluation
            assert fresh.metadata["last_poll_age_s"].value < 600
            # Reported after the pass's trades materialization, which they judge (the UI counts them as current).
            first = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("trades")), limit=1, ascending=True
            ).records
            # (The evaluation events' own times: a record's create_timestamp is stored to the whole second.)
            assert first and first[0].timestamp <= min(r.event.timestamp for r in records if r.event)

            with psycopg.connect(warehouse_url) as conn:
                open_loss_event(
                    conn,
                    datetime(2026, 1, 1, tzinfo=UTC),
                    datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
                    "poll_budget",
                    {"detected_by": "test"},
                )
            failed = wait_until(
                lambda: (
                    (r := _latest_check(instance, "trades_partitions_complete"))
                    and r.evaluation.passed is False
                    and r.evaluation
                ),
                "the completeness check to report the open loss event",
            )
        assert failed.metadata["open_loss_events"].value == 1
        assert _latest_check(instance, "trades_fresh").evaluation.passed is True
        assert driver.check_evaluations >= 2 * len(trade_checks)
