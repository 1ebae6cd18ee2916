from datetime import UTC, datetime

import dagster as dg

from pm_assets.definitions import defs
from pm_sensors.ingestion.schedules import price_history_schedule, universe_refresh_schedule
from pm_sensors.live.periodic import TASKS


def test_price_history_schedule_asks_for_the_finished_day():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 25, 0, 30, tzinfo=UTC))
    request = price_history_schedule(context)
    assert request.partition_key == "2026-11-24"


def test_schedules_and_their_jobs_are_registered():
    names = {s.name for s in defs.schedules}
    assert {"universe_refresh_schedule", "price_history_schedule"} <= names
    assert "book_snapshots_schedule" not in names  # a run a minute: the live run takes the snapshots instead
    assert universe_refresh_schedule.cron_schedule == "*/15 * * * *"
    assert {t.name: t.interval_s for t in TASKS}["book_snapshots"] == 60.0
    universe = defs.resolve_job_def("universe_refresh_job")
    assert {k.to_user_string() for k in universe.asset_layer.selected_asset_keys} == {
        "events",
        "markets",
        "tokens",
    }


def test_asset_keys_and_groups_snapshot():
    graph = defs.resolve_asset_graph()
    mine = {"events", "markets", "tokens", "order_book_snapshots", "price_points"}
    groups = {
        k.to_user_string(): graph.get(k).group_name
        for k in graph.get_all_asset_keys()
        if k.to_user_string() in mine
    }
    assert groups == {
        "events": "markets",
        "markets": "markets",
        "tokens": "markets",
        "order_book_snapshots": "books",
        "price_points": "prices",
    }
    assert graph.get(dg.AssetKey("price_points")).partitions_def is not None
