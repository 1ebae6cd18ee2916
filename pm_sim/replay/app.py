"""`pm-intel sim --replay DIR`: one ASGI app serving a recording in pm_sim's layout (/gamma, /clob, /data,
/ws/market, /admin) on the recording's clock."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route, WebSocketRoute

from pm_sim.clock import Clock, iso
from pm_sim.recording import SOURCES, Recording
from pm_sim.replay.routes import clob_routes, data_routes, gamma_routes
from pm_sim.replay.store import ReplayStore
from pm_sim.replay.ws import ReplayHub
from pm_sim.responses import js

# What a missing source means for the routes that would serve it (printed once per source at start).
MISSING_MEANS = {
    "gamma_markets": "Gamma lists no markets",
    "gamma_events": "Gamma lists no events",
    "data_trades": "/data/v2/trades answers empty pages",
    "clob_books": "/clob/book and /clob/books serve the newest recorded websocket book, else 404",
    "clob_prices_history": "/clob/prices-history answers {'history': []}",
    "data_resolutions": "/data/v2/resolutions answers empty data",
    "data_activity": "/data/v2/activity answers empty data (wallet ages unknown)",
    "ws_market": "/ws/market sends nothing but PONGs",
}


class Replay:
    """A loaded recording plus its clock (speed N = N recording seconds per real second)."""

    def __init__(
        self, folder: str, speed: float = 1.0, start: float | None = None, idle_timeout: float = 30.0
    ):
        self.recording = Recording(folder)
        self.store = ReplayStore(self.recording)
        self.clock = Clock(self.store.start if start is None else start, speed)
        self.hub = ReplayHub(self.store, self.clock, idle_timeout)

    def missing_lines(self) -> list[str]:
        return [f"replay: no {s} in the recording: {MISSING_MEANS[s]}" for s in self.store.missing]

    def emitted_trades(self, start: float, end: float, include_rows: bool) -> dict[str, Any]:
        """Recorded taker fills with start <= timestamp <= min(end, now), in pm_sim's checksum line format."""
        hi = min(end, self.clock.now())
        digest = hashlib.sha256()
        occ: dict[tuple, int] = {}
        rows = []
        for r in self.store.trades:
            ts = int(r.get("timestamp") or 0)
            if not start <= ts <= hi:
                continue
            key = (r["transaction_hash"], r["token_id"], r["proxy_wallet"], r["side"], r["price"], r["size"])
            occ[key] = occ.get(key, 0) + 1
            line = (
                f"{r['transaction_hash']}|{r['token_id']}|{r['proxy_wallet']}|{r['side']}"
                f"|{float(r['price'])!r}|{float(r['size'])!r}|{ts}|{occ[key]}"
            )
            digest.update(line.encode() + b"\n")
            rows.append(line)
        out: dict[str, Any] = {
            "count": len(rows),
            "sha256": digest.hexdigest(),
            "start": int(start),
            "end": int(hi),
            "line_format": "tx|token_id|wallet|side|price|size|timestamp_s|occurrence",
        }
        if include_rows:
            out["rows"] = rows
        return out


def admin_routes(replay: Replay) -> list[Route]:
    clock = replay.clock

    async def state(request: Request):
        t = clock.now()
        rec = replay.recording
        return js(
            {
                "now": t,
                "now_iso": iso(t),
                "speed": clock.speed,
                "mode": "replay",
                "recording": {
                    "folder": str(rec.folder),
                    "start": replay.store.start,
                    "end": replay.store.end,
                    "sources": replay.store.present,
                    "missing": replay.store.missing,
                    "counts": replay.store.summary(),
                    "selection": rec.manifest.get("selection"),
                },
                "ws_connections": replay.hub.state(),
                "ws_messages": replay.hub.sent,
            }
        )

    async def set_clock(request: Request):
        body = orjson.loads(await request.body() or b"{}")
        if "set" in body:
            v = body["set"]
            clock.set(
                datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() if isinstance(v, str) else v
            )
        if "advance" in body:
            clock.advance(float(body["advance"]))
        if "speed" in body:
            clock.set_speed(float(body["speed"]))
        return js({"now": clock.now(), "now_iso": iso(clock.now()), "speed": clock.speed})

    async def emitted(request: Request):
        qp = request.query_params
        return js(
            replay.emitted_trades(
                float(qp.get("start", 0)), float(qp.get("end", 1e12)), qp.get("rows") in ("1", "true")
            )
        )

    async def sources(request: Request):
        return js({s: {"present": s in replay.store.present, "what": SOURCES[s]} for s in SOURCES})

    return [
        Route("/state", state),
        Route("/clock", set_clock, methods=["POST"]),
        Route("/emitted/trades", emitted),
        Route("/sources", sources),
    ]


def build_replay_app(replay: Replay) -> Starlette:
    app = Starlette(
        routes=[
            Mount("/gamma", routes=gamma_routes(replay.store, replay.clock)),
            Mount("/clob", routes=clob_routes(replay.store, replay.clock)),
            Mount("/data", routes=data_routes(replay.store, replay.clock)),
            WebSocketRoute("/ws/market", replay.hub.endpoint),
            Mount("/admin", routes=admin_routes(replay)),
        ]
    )
    app.state.replay = replay
    return app
