"""`pm-intel replay DIR [--json] [--threshold SIGNAL_TYPE.NAME=VALUE]`: the production assets over a recording."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from typing import Any

from pm_assets.cli.errors import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="run the production ingestion and signals over a recording in a throwaway database",
        description="Serve DIR (a pm-intel recording) through pm_sim's replay server, ingest it with the "
        "production assets into a throwaway database, run every signal at its default thresholds (or those "
        "given with --threshold) and report alerts and suppressions per signal table.",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="SIGNAL_TYPE.NAME=VALUE",
        help="a threshold to change, e.g. size_anomaly.size_min_usdc=5000 (repeatable)",
    )
    p.add_argument("--keep-db", action="store_true", help="keep the throwaway database for inspection")


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def table(out: dict[str, Any]) -> str:
    lines = [
        f"{out['trades']:,} trades, {out['markets']:,} markets, {out['market_days']:,} market-days",
        f"{'signal':22} {'alerts':>7} {'/1k trades':>11} {'/market-day':>12}  suppressed",
    ]
    for name, s in out["signals"].items():
        held = ", ".join(f"{k} {v:,}" for k, v in s["suppressed"].items()) or "-"
        lines.append(
            f"{name:22} {s['alerts']:>7,} {_fmt(s['alerts_per_1k_trades']):>11} "
            f"{_fmt(s['alerts_per_market_day']):>12}  {held}"
        )
    return "\n".join(lines)


def run_replay(args: argparse.Namespace) -> int:
    from pm_assets.cli.replay_run import ReplayRunError, parse_thresholds, replay_recording
    from pm_assets.signals.thresholds import ThresholdError
    from pm_sim.recording import RecordingError

    try:
        thresholds = parse_thresholds(args.threshold)
    except ThresholdError as exc:
        raise CliError(str(exc)) from None
    logging.getLogger("dagster").setLevel(logging.ERROR)
    try:
        # Dagster and the clients print as they work: keep stdout for the one result.
        with contextlib.redirect_stdout(sys.stderr):
            result = replay_recording(args.dir, thresholds, keep_db=args.keep_db).as_json()
    except (ReplayRunError, RecordingError) as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(result) if args.json else table(result))
    return 0
