"""Dagster definitions contributed by this domain; pm_assets/definitions.py assembles them.

Kept out of __init__ so that the dagster-free modules of the package import without Dagster.
"""

import dagster as dg

import pm_assets.signals.registry as signals

from .job import StreamSettingsResource, stream_consumer_job
from .supervisor import build_stream_supervisor
from .triggers import ARBITRAGE, SPIKES

SIGNAL_KEYS = [dg.AssetKey(ARBITRAGE), dg.AssetKey(SPIKES)]


def _defined_keys() -> set[dg.AssetKey]:
    return {k for a in signals.assets for k in getattr(a, "keys", ())}


# An asset job over keys that no asset defines fails the whole Definitions, so the signal job (and the
# sensor's signal RunRequests) appear once the signals domain registers arbitrage_windows and price_spikes.
_signal_keys = [k for k in SIGNAL_KEYS if k in _defined_keys()]
stream_signals_job = (
    dg.define_asset_job(
        "stream_signals_job",
        selection=dg.AssetSelection.assets(*_signal_keys),
        description="Signal assets fed by the websocket stream, one run per minute of ticks.",
    )
    if _signal_keys
    else None
)

assets: list = []
asset_checks: list = []
jobs: list = [stream_consumer_job] + ([stream_signals_job] if stream_signals_job is not None else [])
schedules: list = []
sensors: list = [build_stream_supervisor(stream_signals_job, _signal_keys)]
resources: dict = {"stream_settings": StreamSettingsResource()}
