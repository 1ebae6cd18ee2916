"""Serve an ASGI app (pm_sim or a replay) on a free loopback port in a background thread with its own loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from pm_sim.cli import bind, make_server, urls


@dataclass
class ReplayHandle:
    replay: object  # pm_sim.replay.app.Replay
    base_url: str
    gamma_url: str
    clob_url: str
    data_url: str
    ws_url: str
    admin_url: str

    def advance(self, seconds: float) -> dict:
        return httpx.post(self.admin_url + "/clock", json={"advance": seconds}).json()

    def set_clock(self, t: float) -> dict:
        return httpx.post(self.admin_url + "/clock", json={"set": t}).json()

    def state(self) -> dict:
        return httpx.get(self.admin_url + "/state").json()


@contextlib.contextmanager
def running_replay(folder: str, speed: float = 0.0, start: float | None = None) -> Iterator[ReplayHandle]:
    """Serve a recording (`pm-intel sim --replay`) on a free loopback port in a background thread."""
    from pm_sim.replay.app import Replay, build_replay_app

    replay = Replay(str(folder), speed=speed, start=start)
    with serving(build_replay_app(replay)) as u:
        yield ReplayHandle(replay=replay, **u)


@contextlib.contextmanager
def serving(app) -> Iterator[dict]:
    sock = bind("127.0.0.1", 0)
    server = make_server(app, sock)
    th = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    th.start()
    while not server.started:
        if not th.is_alive():
            raise RuntimeError("pm_sim failed to start")
        time.sleep(0.01)
    try:
        yield urls("127.0.0.1", sock.getsockname()[1])
    finally:
        server.should_exit = True
        th.join(timeout=10)
