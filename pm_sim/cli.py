"""`python -m pm_sim` / `pm-intel sim`: serve the simulator on one loopback port."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from datetime import datetime

from .config import SimConfig


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pm_sim", description="Local simulator of Polymarket's public APIs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port", type=int, default=0, help="0 = a free port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--speed", type=float, default=1.0, help="sim seconds per real second; 0 = frozen")
    p.add_argument("--start", default=None, help="clock anchor, ISO or epoch (default 2026-11-20T00:00:00Z)")
    p.add_argument("--markets", type=int, default=200, help="up to 50000")
    p.add_argument("--trades-per-second", type=float, default=12.0)
    p.add_argument("--ws-rate", type=float, default=200.0, help="price_change messages/s across the world")
    p.add_argument("--history-hours", type=float, default=6.0)
    p.add_argument("--horizon-hours", type=float, default=24.0)
    p.add_argument("--v2-fraction", type=float, default=0.33)
    p.add_argument("--faults", default="", help="name[=param],... (see README)")
    p.add_argument("--era", choices=("late2026", "legacy"), default="late2026")
    p.add_argument("--data-v1", choices=("on", "off"), default="on")
    p.add_argument("--gamma-version-default", choices=("v1", "both"), default="v1")
    p.add_argument(
        "--ws-idle-timeout",
        type=float,
        default=None,
        help="close a socket silent this many seconds (default 10; 30 for --replay, which often runs fast)",
    )
    p.add_argument("--no-rate-limits", action="store_true")
    p.add_argument("--ground-truth", default=None, metavar="PATH")
    p.add_argument("--print-json", action="store_true", help="print the base URLs as one JSON line")
    p.add_argument(
        "--replay",
        default=None,
        metavar="DIR",
        help="serve a recording (pm-intel record) instead of the simulated world; --speed and --start apply "
        "to the recording's clock (default start: its first instant)",
    )
    return p


def config_from(ns: argparse.Namespace) -> SimConfig:
    cfg = SimConfig(
        seed=ns.seed,
        markets=min(ns.markets, 50_000),
        trades_per_second=ns.trades_per_second,
        ws_rate=ns.ws_rate,
        speed=ns.speed,
        history_hours=ns.history_hours,
        horizon_hours=ns.horizon_hours,
        v2_fraction=ns.v2_fraction,
        era=ns.era,
        data_v1=ns.data_v1 == "on",
        gamma_version_default=ns.gamma_version_default,
        faults=ns.faults,
        ws_idle_timeout=10.0 if ns.ws_idle_timeout is None else ns.ws_idle_timeout,
        rate_limits=not ns.no_rate_limits,
        ground_truth_path=ns.ground_truth,
    )
    start = _start_time(ns.start)
    if start is not None:
        cfg.start = start
    return cfg


def urls(host: str, port: int) -> dict:
    base = f"http://{host}:{port}"
    return {
        "base_url": base,
        "gamma_url": base + "/gamma",
        "clob_url": base + "/clob",
        "data_url": base + "/data",
        "ws_url": f"ws://{host}:{port}/ws/market",
        "admin_url": base + "/admin",
    }


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # listen before printing the URLs, so a client never races the server's startup
    return sock


def make_server(app, sock: socket.socket):
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
        ws_ping_interval=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def _start_time(raw: str | None) -> float | None:
    if not raw:
        return None
    if raw.replace(".", "").isdigit():
        return float(raw)
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()


def replay_app(ns: argparse.Namespace):
    """The app serving `--replay DIR`; says at start which sources the recording lacks, one line each."""
    from .recording import RecordingError
    from .replay.app import Replay, build_replay_app

    idle = 30.0 if ns.ws_idle_timeout is None else ns.ws_idle_timeout
    try:
        replay = Replay(ns.replay, speed=ns.speed, start=_start_time(ns.start), idle_timeout=idle)
    except RecordingError as exc:
        print(f"pm_sim: cannot replay: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    store = replay.store
    print(
        f"replay: {ns.replay}: {store.start:.3f} .. {store.end:.3f}, sources: {', '.join(store.present)}",
        file=sys.stderr,
        flush=True,
    )
    for line in replay.missing_lines():
        print(line, file=sys.stderr, flush=True)
    return build_replay_app(replay)


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    if ns.replay:
        app = replay_app(ns)
    else:
        from .app import build_app
        from .sim import Sim

        cfg = config_from(ns)
        sim = Sim(cfg)
        if cfg.ground_truth_path:
            sim.write_ground_truth(cfg.ground_truth_path)
        app = build_app(sim)
    sock = bind(ns.host, ns.port)
    u = urls(ns.host, sock.getsockname()[1])
    if ns.print_json:
        print(json.dumps(u), flush=True)
    else:
        for k, v in u.items():
            print(f"{k:10s} {v}", flush=True)
    server = make_server(app, sock)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C (or `pm-intel up` stopping) is the normal way out, not a crash
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
