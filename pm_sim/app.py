"""One ASGI app on one port: /gamma, /clob, /data, /ws/market, /admin; plus the fault and rate-limit layer."""

from __future__ import annotations

import asyncio
from datetime import datetime

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route, WebSocketRoute

from . import clob, data_api, gamma
from .clock import iso
from .ratelimit import RateLimiter
from .responses import js
from .rng import u01
from .sim import Sim
from .ws import Hub

CLOUDFLARE = (
    b"<!DOCTYPE html>\n<html><head><title>Attention Required! | Cloudflare</title></head><body>"
    b"<h1>Sorry, you have been blocked</h1><p>You are unable to access polymarket.com</p>"
    b"<p>Cloudflare Ray ID: 8f0000000000sim</p></body></html>"
)


def _err_body(path: str, status: int, msg: str) -> bytes:
    if path.startswith("/gamma"):
        return orjson.dumps({"type": "internal error" if status >= 500 else "rate limited", "error": msg})
    if path.startswith("/data/v2"):
        return orjson.dumps(
            {
                "error": msg,
                "code": "rate_limited" if status == 429 else "internal",
                "parameter": "",
                "retryable": True,
                "trace_id": "0" * 32,
            }
        )
    return orjson.dumps({"error": msg})


class FaultLayer:
    """Pure ASGI middleware: throttle, then maybe inject an HTTP fault, then maybe corrupt the body."""

    def __init__(self, app, sim: Sim, limiter: RateLimiter | None):
        self.app, self.sim, self.limiter = app, sim, limiter

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/admin"):
            return await self.app(scope, receive, send)
        path = scope["path"]
        sim = self.sim
        sim.served["http"] += 1
        f = sim.faults
        if self.limiter is not None:
            await self.limiter.acquire(path)
        if f.fires("cloudflare", path):
            return await _raw(send, 403, CLOUDFLARE, b"text/html; charset=UTF-8")
        if f.fires("rate_storm", path):
            ra = str(f.get("retry_after", 2)).encode()
            return await _raw(
                send, 429, _err_body(path, 429, "Too Many Requests"), extra=[(b"retry-after", ra)]
            )
        if f.fires("5xx", path):
            return await _raw(
                send,
                503 if u01(9, sim.served["http"]) < 0.5 else 500,
                _err_body(path, 500, "Internal server error"),
            )
        if f.fires("hang", path):
            # Never answer; end quietly once the client gives up (its timeout) and disconnects.
            while (await receive())["type"] != "http.disconnect":
                pass
            return
        if f.on("slow"):
            await asyncio.sleep(float(f.get("slow") if f.get("slow") is not True else 2.0))
        mode = next((k for k in ("truncate", "malformed", "drift") if f.fires(k, path)), None)
        if mode is None:
            return await self.app(scope, receive, send)
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(msg):
            if msg["type"] == "http.response.start":
                start.update(msg)
            else:
                chunks.append(msg.get("body", b""))

        await self.app(scope, receive, capture)
        body = _corrupt(b"".join(chunks), mode)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _corrupt(body: bytes, mode: str) -> bytes:
    if mode == "truncate":
        return body[: max(1, len(body) * 2 // 3)]
    if mode == "malformed":
        return body.replace(b":", b"=", 1) + b",}"
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    return orjson.dumps(_drift(obj, 0))


def _drift(o, depth: int):
    """Schema drift: an unknown field appears, an optional one goes missing, numbers become strings."""
    if isinstance(o, list):
        return [_drift(x, depth + 1) if i < 3 else x for i, x in enumerate(o)]
    if not isinstance(o, dict):
        return o
    out = {}
    dropped = False
    for k, v in o.items():
        if not dropped and k in (
            "icon",
            "bio",
            "image",
            "tick_size",
            "description",
            "event_slug",
            "profile_image",
        ):
            dropped = True
            continue
        if isinstance(v, bool) or v is None:
            out[k] = v
        elif isinstance(v, (int, float)):
            out[k] = str(v)
        elif isinstance(v, (dict, list)) and depth < 3:
            out[k] = _drift(v, depth + 1)
        else:
            out[k] = v
    out["sim_unknown_field"] = {"added_by": "pm_sim drift fault"}
    return out


async def _raw(send, status: int, body: bytes, ctype: bytes = b"application/json", extra=None):
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def admin_routes(sim: Sim, hub: Hub) -> list[Route]:
    async def state(request: Request):
        t = sim.now()
        return js(
            {
                "now": t,
                "now_iso": iso(t),
                "speed": sim.clock.speed,
                "start": sim.cfg.start,
                "history_start": sim.world.history_start,
                "seed": sim.cfg.seed,
                "era": sim.cfg.era,
                "markets": len(sim.world.markets),
                "trades_per_second": sim.cfg.trades_per_second,
                "ws_rate": sim.cfg.ws_rate,
                "faults": sim.faults.describe(),
                "served": dict(sim.served),
                "ws_connections": hub.state(),
                "bucket_seconds": sim.flow.B,
            }
        )

    async def clock(request: Request):
        body = orjson.loads(await request.body() or b"{}")
        if "set" in body:
            v = body["set"]
            sim.clock.set(
                datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() if isinstance(v, str) else v
            )
        if "advance" in body:
            sim.clock.advance(float(body["advance"]))
        if "speed" in body:
            sim.clock.set_speed(float(body["speed"]))
        return js({"now": sim.now(), "now_iso": iso(sim.now()), "speed": sim.clock.speed})

    async def faults(request: Request):
        if request.method == "POST":
            body = orjson.loads(await request.body() or b"{}")
            try:
                if body.pop("clear", False):
                    sim.faults.clear()
                sim.faults.update(body.get("set", body) if isinstance(body.get("set", body), dict) else {})
            except ValueError as exc:
                return js({"error": str(exc)}, 400)
        return js(sim.faults.describe())

    async def truth(request: Request):
        allr = request.query_params.get("all") in ("1", "true")
        return js(
            {"seed": sim.cfg.seed, "now": sim.now(), "records": sim.truth if allr else sim.ground_truth()}
        )

    async def emitted(request: Request):
        qp = request.query_params
        return js(
            sim.emitted_trades(
                float(qp.get("start", 0)), float(qp.get("end", 1e12)), qp.get("rows") in ("1", "true")
            )
        )

    async def markets(request: Request):
        out = sim.market_summary()
        if request.query_params.get("list") in ("1", "true"):
            t = sim.now()
            out["list"] = [
                {
                    "idx": m.idx,
                    "id": m.id,
                    "condition_id": m.condition_id,
                    "token_ids": m.token_ids,
                    "version": m.version,
                    "neg_risk": m.neg_risk,
                    "has_book": m.has_book,
                    "open": m.created_at <= t < m.close_time,
                    "tick": m.tick,
                    "event_id": sim.world.events[m.event_idx].id,
                    "gamma_condition_id": m.gamma_condition_id,
                }
                for m in sim.world.markets
            ]
        return js(out)

    return [
        Route("/state", state),
        Route("/clock", clock, methods=["POST"]),
        Route("/faults", faults, methods=["GET", "POST"]),
        Route("/ground-truth", truth),
        Route("/emitted/trades", emitted),
        Route("/markets", markets),
    ]


def build_app(sim: Sim) -> Starlette:
    hub = Hub(sim)
    limiter = RateLimiter(float(sim.cfg.extra.get("rate_limit_scale", 1.0))) if sim.cfg.rate_limits else None
    app = Starlette(
        routes=[
            Mount("/gamma", routes=gamma.routes(sim)),
            Mount("/clob", routes=clob.routes(sim)),
            Mount("/data", routes=data_api.routes(sim)),
            WebSocketRoute("/ws/market", hub.endpoint),
            Mount("/admin", routes=admin_routes(sim, hub)),
        ]
    )
    app.state.sim = sim
    app.state.hub = hub
    return FaultLayer(app, sim, limiter)
