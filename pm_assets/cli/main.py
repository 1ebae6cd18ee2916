"""`pm-intel`: run the system, manage its database, and reach the simulator, benchmarks and status."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pm_assets.cli.errors import CliError
from pm_assets.storage.database import DatabaseUnreachable
from pm_assets.storage.urls import mask_secrets


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pm-intel", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser(
        "up", help="start Postgres (embedded unless DATABASE_URL), migrate, Dagster and Streamlit"
    )
    up.add_argument(
        "--host", default="127.0.0.1", help="address the dashboards listen on (default 127.0.0.1)"
    )
    up.add_argument(
        "--dagster-host",
        default="127.0.0.1",
        help="address the Dagster UI listens on (default 127.0.0.1; it has no login, see README Security)",
    )
    up.add_argument("--dagster-port", type=int, default=3000)
    up.add_argument("--streamlit-port", type=int, default=8501)
    up.add_argument(
        "--api-port",
        type=int,
        default=None,
        help="port of the read-only HTTP API (default: 8502, or the next free one); it listens on --host",
    )
    up.add_argument(
        "--sim", action="store_true", help="also start pm_sim and point every client at it (offline)"
    )
    up.add_argument("--sim-arg", action="append", default=[], help="extra argument for pm_sim (repeatable)")
    up.add_argument("--keep-db", action="store_true", help="leave the embedded Postgres running on exit")

    db = sub.add_parser("db", help="the warehouse database")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    dbsub.add_parser("upgrade", help="migrate the warehouse schema to the newest revision")
    down = dbsub.add_parser("downgrade", help="migrate the warehouse schema down to REVISION")
    down.add_argument("revision")
    dbsub.add_parser("status", help="current and pending schema revisions")
    url = dbsub.add_parser("url", help="print the warehouse (or Dagster storage) URL")
    url.add_argument("--dagster", action="store_true", help="the Dagster storage database instead")
    url.add_argument("--reveal", action="store_true", help="print the password in clear (for scripts)")
    dbsub.add_parser("stop", help="stop the embedded Postgres")

    sim = sub.add_parser(
        "sim", help="serve pm_sim, the local Polymarket stand-in (args go to pm_sim)", add_help=False
    )
    sim.add_argument("sim_args", nargs=argparse.REMAINDER)
    bench = sub.add_parser("bench", help="run a benchmark under bench/ (args go to it)", add_help=False)
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    from pm_assets.cli.api import add_parser as add_api
    from pm_assets.cli.record import add_parser as add_record
    from pm_assets.cli.replay import add_parser as add_replay

    add_record(sub)
    add_replay(sub)
    add_api(sub)
    status = sub.add_parser("status", help="health of every part: coverage, latency, heartbeats")
    status.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    # sim and bench own their flags (including --help): hand them everything after the word.
    if argv and argv[0] == "sim":
        from pm_sim.cli import main as sim_main

        return int(sim_main(argv[1:]) or 0)
    if argv and argv[0] == "bench":
        from bench.runner import main as bench_main

        return int(bench_main(argv[1:]) or 0)
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            from pm_assets.cli.up import run_up

            return run_up(args)
        if args.command == "db":
            from pm_assets.cli.db import run_db

            return run_db(args)
        if args.command == "record":
            from pm_assets.cli.record import run_record

            return run_record(args)
        if args.command == "replay":
            from pm_assets.cli.replay import run_replay

            return run_replay(args)
        if args.command == "api":
            from pm_assets.cli.api import run_api

            return run_api(args)
        if args.command == "status":
            from pm_assets.cli.status import run_status

            return run_status(args)
    except (CliError, DatabaseUnreachable) as exc:
        print(f"pm-intel: error: {mask_secrets(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
