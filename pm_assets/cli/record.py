"""`pm-intel record DIR`: capture the live APIs for chosen markets into a recording (pm_sim/RECORDING.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re

from pm_assets.cli.errors import CliError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`30m`, `2h`, `90s`, `1d`, `1h30m` or plain seconds."""
    raw = text.strip().lower()
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhd]?)", raw)
    if not parts or "".join(n + u for n, u in parts) != raw.replace(" ", ""):
        raise CliError(f"cannot read the duration {text!r}: use e.g. 30m, 2h, 90s, 1d or seconds")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record the live APIs for chosen markets into DIR (resumable; see pm_sim/RECORDING.md)",
        description="Capture Gamma markets/events, Data API v2 trades, CLOB books and price history, "
        "resolutions, wallet activity and the websocket market channel for chosen markets into DIR. "
        "Re-running on the same DIR continues it without duplicating lines.",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--slug", action="append", default=[], help="a market slug (repeatable)")
    p.add_argument("--event", action="append", default=[], help="an event slug or id (repeatable)")
    p.add_argument("--tag", action="append", default=[], help="a Gamma tag id: its open markets (repeatable)")
    p.add_argument(
        "--top", type=int, default=None, metavar="N", help="the N open markets with most 24 h volume"
    )
    p.add_argument("--max-markets", type=int, default=500, help="cap on the markets followed (default 500)")
    p.add_argument(
        "--duration",
        default=None,
        help="how long to record, e.g. 30m (default 30m; on resume: to the planned end)",
    )
    p.add_argument(
        "--history", default="2h", help="trades and prices before the start to include (default 2h)"
    )
    p.add_argument("--interval", default="60s", help="trades and books polling interval (default 60s)")
    p.add_argument(
        "--gamma-interval", default="15m", help="Gamma, resolutions and price history interval (default 15m)"
    )
    p.add_argument(
        "--activity-min-usdc",
        type=float,
        default=500.0,
        help="walk a wallet's activity once it makes a fill this big (default 500, as the wallets asset)",
    )
    p.add_argument("--no-websocket", action="store_true", help="do not capture the websocket market channel")


def run_record(args: argparse.Namespace) -> int:
    from pm_assets.recording.progress import ProgressDisplay, describe
    from pm_assets.recording.recorder import Recorder, RecordError, RecordOptions
    from pm_assets.recording.selection import Selection, SelectionError
    from pm_sim.recording import RecordingError

    chosen = bool(args.slug or args.event or args.tag or args.top)
    selection = (
        Selection(tuple(args.slug), tuple(args.event), tuple(args.tag), args.top, args.max_markets)
        if chosen
        else None
    )
    options = RecordOptions(
        selection=selection,
        duration_s=None if args.duration is None else parse_duration(args.duration),
        history_s=parse_duration(args.history),
        interval_s=max(1.0, parse_duration(args.interval)),
        gamma_interval_s=parse_duration(args.gamma_interval),
        activity_min_usdc=args.activity_min_usdc,
        websocket=not args.no_websocket,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the progress
    display = ProgressDisplay()
    try:
        progress = asyncio.run(Recorder(args.dir, options).run(display))
    except (RecordError, SelectionError, RecordingError) as exc:
        raise CliError(str(exc)) from None
    finally:
        display.close()
    print(
        f"recorded into {args.dir}: {progress.rounds} round(s); this session: {describe(progress.lines) or 'nothing new'}"
    )
    return 0
