"""`stream_consumer_job`: one op that runs the stream consumer until it is told to stop.

The stream supervisor sensor keeps exactly one run of it alive (run tag `pm-intel/singleton: stream`, limited
to 1 by dagster.yaml's QueuedRunCoordinator). Inside the run the consumer reconnects by itself; an unexpected
error restarts it in-process after a short pause, so only a dead or hung process needs the supervisor.
"""

import asyncio
import os
import threading
import time

import dagster as dg
from pydantic import Field

from pm_assets.resources.warehouse import WarehouseResource
from pm_assets.storage.urls import mask_secrets

from .consumer import StreamConsumer
from .settings import DEFAULT_WS_URL, StreamSettings, settings_from_env

SINGLETON_TAGS = {"pm-intel/singleton": "stream"}
_RESTART_PAUSE_S = 1.0


class StreamSettingsResource(dg.ConfigurableResource):
    """Where the market channel is. `ws_url` unset: POLYMARKET_WS_URL at launch, else the live host."""

    ws_url: str | None = None

    def resolved_ws_url(self) -> str:
        return self.ws_url or os.environ.get("POLYMARKET_WS_URL") or DEFAULT_WS_URL


class StreamConsumerConfig(dg.Config):
    """Unset fields fall back to PM_INTEL_STREAM_* and then to the defaults in settings.py."""

    selection: str | None = Field(default=None, description="active | top | list")
    top_n: int | None = Field(default=None, description="markets by 24h volume, for selection 'top'")
    tokens: list[str] | None = Field(default=None, description="asset ids, for selection 'list'")
    subscribe_batch: int | None = Field(default=None, description="asset ids per subscribe message")
    flush_interval_s: float | None = Field(default=None, description="seconds between batched writes")
    stall_timeout_s: float | None = Field(
        default=None, description="seconds without data before reconnecting"
    )
    ping_interval_s: float | None = Field(default=None, description="seconds between text PINGs")
    max_runtime_s: float | None = Field(
        default=None, description="stop after this long (0: run until stopped)"
    )

    def settings(self, ws_url: str) -> StreamSettings:
        overrides = self.model_dump()
        if overrides.get("tokens") is not None:
            overrides["tokens"] = tuple(overrides["tokens"])
        return settings_from_env().with_overrides(ws_url=ws_url, **overrides)


def run_until_stopped(
    settings: StreamSettings,
    database_url: str,
    run_id: str | None,
    logger,
    stop: threading.Event | None = None,
    on_commit=None,
) -> StreamConsumer:
    """Run consumers back to back (one at a time) until max_runtime_s passes or `stop` is set."""
    deadline = time.monotonic() + settings.max_runtime_s if settings.max_runtime_s > 0 else None
    while True:
        remaining = 0.0 if deadline is None else deadline - time.monotonic()
        if deadline is not None and remaining <= 0:
            break
        consumer = StreamConsumer(
            settings.with_overrides(max_runtime_s=remaining),
            database_url,
            run_id=run_id,
            logger=logger,
            on_commit=on_commit,
        )
        try:
            asyncio.run(_run_with_external_stop(consumer, stop))
        except Exception as exc:  # noqa: BLE001 - a bug must not end the stream; it is logged and restarted
            logger.error(
                f"stream: consumer crashed ({type(exc).__name__}: {mask_secrets(str(exc))}); "
                f"restarting in {_RESTART_PAUSE_S}s"
            )
            time.sleep(_RESTART_PAUSE_S)
            continue
        if stop is None or stop.is_set() or deadline is not None:
            return consumer
    return consumer


async def _run_with_external_stop(consumer: StreamConsumer, stop: threading.Event | None) -> None:
    event = asyncio.Event()
    if stop is not None:

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.2)
            event.set()

        watcher = asyncio.create_task(watch())
    await consumer.run(event)
    if stop is not None:
        watcher.cancel()


@dg.op(tags=SINGLETON_TAGS)
def run_stream_consumer(
    context: dg.OpExecutionContext,
    config: StreamConsumerConfig,
    warehouse: WarehouseResource,
    stream_settings: StreamSettingsResource,
) -> dg.Output:
    """Consume the CLOB market channel into the ws tick tables until the run is terminated. Each stored batch
    of trade ticks notifies the live driver (`NOTIFY pm_intel_trade_ticks`), which does the rest."""
    settings = config.settings(stream_settings.resolved_ws_url())
    context.log.info(
        f"stream consumer: selection={settings.selection} url={settings.ws_url} "
        f"flush={settings.flush_interval_s}s stall={settings.stall_timeout_s}s warehouse={warehouse.masked_url}"
    )
    consumer = run_until_stopped(settings, warehouse.database_url, context.run_id, context.log)
    summary = consumer.stats.summary()
    return dg.Output(None, metadata={k: v for k, v in summary.items() if v is not None})


@dg.job(
    tags=SINGLETON_TAGS,
    description="The long-running websocket stream consumer (kept alive by stream_supervisor_sensor).",
)
def stream_consumer_job():
    run_stream_consumer()
