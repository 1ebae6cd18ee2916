"""The recorder's websocket capture: every raw frame of the market channel, as received, with its time.

The session (subscribe in batches, text PING/PONG, stall detection) is the stream consumer's own
MarketChannel, so the recording sees the channel exactly as the pipeline does; PONGs are not data and are not
recorded. A dropped or stalled socket reconnects with backoff; each connection is numbered in the lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

import websockets

from pm_sensors.stream.connection import MarketChannel, StallDetected
from pm_sensors.stream.settings import StreamSettings
from pm_sim.recording import RecordingWriter

log = logging.getLogger("pm_intel.record")


async def capture_frames(
    ws_url: str,
    tokens: list[str],
    writer: RecordingWriter,
    now: Callable[[], float],
    stop: asyncio.Event,
    ready: asyncio.Event,
) -> None:
    """Record frames until `stop`; `ready` is set at the first frame (or when no connection can be made)."""
    settings = StreamSettings(ws_url=ws_url)
    delay = settings.backoff_initial_s
    connection = 0
    while not stop.is_set():
        connection += 1
        try:
            channel = await MarketChannel.open(settings, tokens)
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            ready.set()  # nothing to wait for at the end of the session
            log.warning("record: websocket connect failed (%s); retrying in %.1f s", exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay * (0.8 + 0.4 * random.random()))
            delay = min(delay * 2, settings.backoff_max_s)
            continue
        try:
            async for raw in channel.frames(stop):
                writer.append_frame(now(), raw, connection)
                ready.set()
                delay = settings.backoff_initial_s
        except (StallDetected, websockets.ConnectionClosed, OSError, websockets.WebSocketException) as exc:
            log.warning("record: websocket %d ended (%s); reconnecting", connection, exc)
        finally:
            await channel.close()
