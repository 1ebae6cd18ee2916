"""`trade_live_edge_sensor`: keeps `trades` current between daily partition runs.

Design: the sensor polls and writes itself, through the same plain functions the asset uses
(`poll_live_edge`), instead of launching a run per tick. A poll is a few pages of the global feed every
few seconds; a run per tick would cost a process start and a run record each time (thousands a day) for
seconds of work. The poll is bounded (`max_pages`, a 40 s time budget, under the daemon's 60 s sensor
timeout). The one expensive thing, repairing a loss event (a `condition=` walk over every market that may
have traded in the interval), is not done in the tick: the sensor launches `trade_loss_repair_job`, keyed by
the loss ids so each loss is repaired by one run. Every tick beats `heartbeats` (part `trade_poll`) so
`pm-intel status` can tell a stalled edge from a quiet market, with the last success and, while polls fail,
since when (a beat means the loop turns; `last_ok_at` that the feed was read); the sensor cursor mirrors the warehouse
cursor `trades_live_edge` (the warehouse one is the truth).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import dagster as dg
import orjson

from pm_assets.resources.data_api import DataApiClient
from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage import heartbeats
from pm_assets.storage.urls import mask_secrets
from pm_assets.trades import sql
from pm_assets.trades.assets import trade_loss_repair_job
from pm_assets.trades.live_edge import DEFAULT_LOOKBACK_S, poll_live_edge
from pm_assets.trades.loading import run_trade_load

HEARTBEAT_PART = "trade_poll"
POLL_INTERVAL_S = 5


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dg.sensor(
    name="trade_live_edge_sensor",
    job=trade_loss_repair_job,
    minimum_interval_seconds=POLL_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Polls /v2/trades newest-first back to the proven frontier; opens and launches repairs of "
    "loss events when the feed cannot page back that far.",
)
def trade_live_edge_sensor(
    context: dg.SensorEvaluationContext, data_api: DataApiClient, warehouse: WarehouseResource
):
    max_pages = _int_env("PM_INTEL_TRADE_EDGE_MAX_PAGES", 50)
    lookback_s = _int_env("PM_INTEL_TRADE_EDGE_LOOKBACK_S", DEFAULT_LOOKBACK_S)
    attempt_started = datetime.now(UTC)
    try:
        outcome = run_trade_load(
            data_api,
            warehouse.connect,
            lambda session, writer: poll_live_edge(
                session, writer, max_pages=max_pages, time_budget_s=40.0, lookback_s=lookback_s
            ),
            run_id=f"sensor:{context.sensor_name}",
        )
    except (
        Exception
    ) as exc:  # the tick fails visibly; the heartbeat says why, and since when nothing got through
        with warehouse.connect() as conn:
            heartbeats.beat_failure(
                conn,
                HEARTBEAT_PART,
                {"error": mask_secrets(str(exc))[:500]},
                attempt_started=attempt_started,
                unreachable=heartbeats.no_answer(exc),
            )
        raise
    poll = outcome.value
    with warehouse.connect() as conn:
        heartbeats.beat_ok(conn, HEARTBEAT_PART, {**outcome.metadata, **poll.as_metadata()})
        open_losses = sql.open_loss_events(conn)
    context.update_cursor(
        orjson.dumps(
            {
                "complete_through": poll.complete_through.isoformat() if poll.complete_through else None,
                "proven": poll.proven,
                "open_losses": [loss[0] for loss in open_losses],
            }
        ).decode()
    )
    if not open_losses:
        return dg.SkipReason(
            f"inserted {outcome.metadata['rows_inserted']} fills in {poll.pages} pages; complete through "
            f"{poll.complete_through}"
        )
    ids = "-".join(str(loss[0]) for loss in open_losses)
    return dg.RunRequest(run_key=f"trade-loss-{ids}", tags={"pm_intel/trade_loss_ids": ids})
