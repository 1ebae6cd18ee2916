"""Run pm_sim inside a test: `with running_sim(markets=50, speed=0) as s: httpx.get(s.clob_url + "/book", ...)`.

Other suites: `from pm_sim.testing import sim_factory` and declare `pm_sim_factory = sim_factory()` in a
conftest, or use the ready-made `pm_sim_server` fixture (module scope, frozen clock).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from .app import build_app
from .config import SimConfig
from .replay.server import ReplayHandle, running_replay, serving
from .sim import Sim

# Admin calls wait for a busy sim (a shared test machine) instead of failing at httpx's 5 s default.
HANG_S = 120.0

__all__ = ["ReplayHandle", "SimHandle", "pm_sim_server", "running_replay", "running_sim", "sim_factory"]


@dataclass
class SimHandle:
    sim: Sim
    base_url: str
    gamma_url: str
    clob_url: str
    data_url: str
    ws_url: str
    admin_url: str

    @property
    def world(self):
        return self.sim.world

    def advance(self, seconds: float) -> dict:
        return httpx.post(self.admin_url + "/clock", json={"advance": seconds}, timeout=HANG_S).json()

    def set_faults(self, **faults) -> dict:
        return httpx.post(
            self.admin_url + "/faults", json={"clear": True, "set": faults}, timeout=HANG_S
        ).json()

    def ground_truth(self, all_records: bool = True) -> list[dict]:
        return httpx.get(
            self.admin_url + "/ground-truth", params={"all": int(all_records)}, timeout=HANG_S
        ).json()["records"]


@contextlib.contextmanager
def running_sim(**options) -> Iterator[SimHandle]:
    """Start pm_sim on a free loopback port in a background thread (own event loop).

    options are SimConfig fields (seed, markets, trades_per_second, ws_rate, speed, start, history_hours,
    horizon_hours, v2_fraction, era, data_v1, gamma_version_default, faults, ws_idle_timeout,
    rate_limits, ground_truth_path, extra); defaults suit tests: 60 markets, 2 h history, frozen clock.
    """
    opts = {"markets": 60, "history_hours": 2.0, "speed": 0.0, "trades_per_second": 2.0, "rate_limits": False}
    opts.update(options)
    sim = Sim(SimConfig(**opts))
    if sim.cfg.ground_truth_path:
        sim.write_ground_truth(sim.cfg.ground_truth_path)
    with serving(build_app(sim)) as u:
        yield SimHandle(sim=sim, **u)


def sim_factory(scope: str = "module", **defaults):
    """Build a pytest fixture that runs a pm_sim for the given scope; request.param may hold overrides."""

    @pytest.fixture(scope=scope)
    def _fixture(request):
        opts = dict(defaults)
        opts.update(getattr(request, "param", None) or {})
        with running_sim(**opts) as handle:
            yield handle

    return _fixture


pm_sim_server = sim_factory()
