"""`pm-intel up`: the whole system on one machine, stopped together on Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import psycopg

from pm_assets.cli.dagster_instance import write_dagster_home
from pm_assets.cli.db import prepare_databases
from pm_assets.cli.errors import CliError
from pm_assets.storage import postgres_server
from pm_assets.storage.database import EDITOR_ROLE, READER_ROLE, role_login_url
from pm_assets.storage.settings import load_settings
from pm_assets.storage.urls import dagster_storage_url, libpq_url, mask_url

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SIM_HISTORY_HOURS = 72  # pm_sim's demo world for `up --sim`: three days of trades before now


class StopRequested(Exception):
    """Ctrl-C or SIGTERM: a normal stop, which ends `up` with exit code 0."""


def install_stop_handlers() -> None:
    """SIGINT and SIGTERM stop `up` normally, whatever it inherited: a process started by a non-interactive
    shell in the background has SIGINT ignored, yet its children (pm_sim, the Dagster webserver) install
    their own handlers and exit on it; `up` must take that as the stop it is, not as a child that died."""
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            return  # already stopping: let the cleanup finish
        stopping = True
        raise StopRequested(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)


def dagster_webserver_command(workspace: str, host: str, port: int) -> list[str]:
    return [str(BIN / "dagster-webserver"), "-w", workspace, "-h", host, "-p", str(port)]


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        str(BIN / "streamlit"),
        "run",
        str(PROJECT_DIR / "dashboards" / "streamlit_app.py"),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        # An uncaught error's details (statements, values, paths) never reach the browser.
        "--client.showErrorDetails",
        "none",
    ]


def dashboards_env(env: dict[str, str]) -> dict[str, str]:
    """The Streamlit process's environment: the dashboards' own logins, and not the migrating user's URLs,
    so a page (or anything that reads the process environment) never holds more than the reader and editor."""
    out = dict(env)
    warehouse = out.pop("DATABASE_URL")
    out.setdefault("DASHBOARD_DATABASE_URL", role_login_url(warehouse, READER_ROLE))
    out.setdefault("DASHBOARD_EDITOR_DATABASE_URL", role_login_url(warehouse, EDITOR_ROLE))
    if out.get("DAGSTER_PG_URL"):
        out["DAGSTER_PG_URL"] = role_login_url(out["DAGSTER_PG_URL"], READER_ROLE)
    out.pop("DAGSTER_DATABASE_URL", None)
    return out


def api_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "dashboards.api", "--host", host, "--port", str(port)]


def api_env(env: dict[str, str]) -> dict[str, str]:
    """The API process's environment: the reader login only (it never writes, nor reads Dagster's storage)."""
    out = dashboards_env(env)
    out.pop("DASHBOARD_EDITOR_DATABASE_URL", None)
    out.pop("DAGSTER_PG_URL", None)
    return out


def first_free_port(host: str, start: int, tries: int = 50) -> int:
    for port in range(start, start + tries):
        try:
            ensure_port_free(host, port, "API", "--api-port")
            return port
        except CliError:
            continue
    raise CliError(
        f"no free port for the API on {host} in {start}-{start + tries - 1}; choose one with --api-port"
    )


def exposure_warnings(args: argparse.Namespace, env: dict[str, str]) -> list[str]:
    """What `up` says when a UI listens beyond this machine (see README, Security)."""
    warnings = []
    if args.dagster_host not in LOOPBACK_HOSTS:
        warnings.append(
            f"warning: the Dagster UI listens on {args.dagster_host} and has no login: anyone who reaches it "
            "can launch runs and read run logs; put it behind a reverse proxy with authentication"
        )
    if args.host not in LOOPBACK_HOSTS and not env.get("PM_INTEL_DASHBOARD_PASSWORD"):
        warnings.append(
            f"warning: the dashboards listen on {args.host} with no password; set PM_INTEL_DASHBOARD_PASSWORD "
            "or put them behind a reverse proxy / OIDC login"
        )
    return warnings


def ensure_port_free(host: str, port: int, what: str, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CliError(
                f"port {port} on {host} is already in use, so the {what} cannot start there "
                f"(is another pm-intel or Dagster running?); choose another with {flag}"
            ) from exc


def stop_process_tree(procs: list[subprocess.Popen], timeout_s: float = 20.0) -> None:
    """Ctrl-C for the whole tree, whoever sent the stop: each child and everything it started (the daemon's code
    server, run workers such as the long-lived stream run), which would otherwise outlive `pm-intel up` as
    orphans still writing to the warehouse. SIGINT first (a run ends its step cleanly), SIGKILL after timeout_s.

    Each child runs in a process group of its own (`process_group=0`), so a terminal's Ctrl-C reaches `up` alone and this
    is the one signal every process gets: a second SIGINT makes uvicorn and Dagster's helpers exit with a
    KeyboardInterrupt traceback, and a process caught while starting dies with "Fatal Python error"."""
    descendants: list[psutil.Process] = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            descendants.extend(psutil.Process(proc.pid).children(recursive=True))
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for p in descendants:
        with contextlib.suppress(psutil.Error):
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    _gone, alive = psutil.wait_procs(descendants, timeout=max(0.1, deadline - time.monotonic()))
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()


def dagster_home(settings_home: Path) -> Path:
    """$PM_INTEL_HOME/dagster_home with the project's dagster.yaml plus Postgres storage written in."""
    return write_dagster_home(settings_home / "dagster_home")


def start_sim(extra: list[str]) -> tuple[subprocess.Popen, dict[str, str]]:
    # The simulated day starts now, so freshness, lag and the status page read as they would live; a replay
    # (`--sim-arg=--replay --sim-arg=DIR`) runs on its recording's own clock instead.
    keep_clock = any(a.startswith(("--start", "--replay")) for a in extra)
    start = [] if keep_clock else ["--start", str(int(time.time()))]
    # Several past days of trades, so a backfill of past `trades` partitions from the UI finds real fills.
    if not keep_clock and not any(a.startswith("--history-hours") for a in extra):
        start += ["--history-hours", str(SIM_HISTORY_HOURS)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pm_sim", "--port", "0", "--print-json", *start, *extra],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
        process_group=0,  # its own group: a Ctrl-C reaches `up` alone (see stop_process_tree)
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("{"):
            urls = json.loads(line)
            return proc, {
                "POLYMARKET_GAMMA_URL": urls["gamma_url"],
                "POLYMARKET_CLOB_URL": urls["clob_url"],
                "POLYMARKET_DATA_URL": urls["data_url"],
                "POLYMARKET_WS_URL": urls["ws_url"],
                "PM_INTEL_ALLOW_PRIVATE_WEBHOOKS": "1",
            }
    raise CliError(f"pm_sim exited with code {proc.wait()} before printing its URLs")


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CliError(f"{name} exited with code {proc.returncode} while starting; see the lines above")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise CliError(f"{name} did not answer at {url} within {timeout_s:.0f} s")


def launch_first_crawl(warehouse: str, workspace: str, env: dict[str, str]) -> None:
    """On an empty warehouse, queue the universe crawl now instead of waiting for its 15-minute schedule:
    nothing else (trades, books, the stream) has markets to work on until it has run once."""
    with psycopg.connect(libpq_url(warehouse)) as conn:
        row = conn.execute("select exists (select 1 from markets)").fetchone()
    if row and row[0]:
        return
    try:
        result = subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-j", "universe_refresh_job", "-w", workspace],
            env=env,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        print("could not queue the first universe crawl in 300 s; its 15-minute schedule will run it")
        return
    if result.returncode == 0:
        print("queued the first universe crawl (universe_refresh_job); watch it in the Dagster UI")
    else:
        print(f"could not queue the first universe crawl: {result.stderr.strip().splitlines()[-1:]}")


def run_up(args: argparse.Namespace) -> int:
    install_stop_handlers()
    try:
        return _run_up(args)
    except StopRequested:
        print("\nstopped.")
        return 0


def _run_up(args: argparse.Namespace) -> int:
    settings = load_settings()
    ensure_port_free(args.dagster_host, args.dagster_port, "Dagster UI", "--dagster-port")
    ensure_port_free(args.host, args.streamlit_port, "Streamlit app", "--streamlit-port")
    if args.api_port is None:
        api_port = first_free_port(args.host, 8502 if args.streamlit_port != 8502 else 8503)
    else:
        ensure_port_free(args.host, args.api_port, "API", "--api-port")
        api_port = args.api_port
    embedded_was_running = postgres_server.is_running(settings.pg_data_dir)
    urls = prepare_databases()
    print(
        f"database: {mask_url(urls.warehouse)} ({'embedded' if urls.embedded else 'DATABASE_URL'}), migrated"
    )

    env = dict(os.environ)
    env.update(
        DATABASE_URL=urls.warehouse,
        DAGSTER_PG_URL=dagster_storage_url(urls.dagster),
        DAGSTER_HOME=str(dagster_home(settings.home)),
        PM_INTEL_HOME=str(settings.home),
        PM_INTEL_DAGSTER_URL=f"http://{_url_host(args.dagster_host)}:{args.dagster_port}",
    )
    children: list[tuple[str, subprocess.Popen]] = []
    stack = contextlib.ExitStack()
    try:
        if args.sim:
            sim_proc, sim_env = start_sim(args.sim_arg)
            children.append(("pm_sim", sim_proc))
            env.update(sim_env)
            print(f"pm_sim:   {sim_env['POLYMARKET_GAMMA_URL'].rsplit('/', 1)[0]} (every client points here)")
        workspace = str(PROJECT_DIR / "workspace.yaml")
        daemon_log_path = settings.home / "logs" / "dagster-daemon.log"
        daemon_log_path.parent.mkdir(parents=True, exist_ok=True)
        daemon_log = stack.enter_context(daemon_log_path.open("a"))
        children.append(
            (
                "dagster-webserver",
                subprocess.Popen(
                    dagster_webserver_command(workspace, args.dagster_host, args.dagster_port),
                    env=env,
                    cwd=PROJECT_DIR,
                    process_group=0,
                ),
            )
        )
        children.append(
            (
                "dagster-daemon",
                subprocess.Popen(
                    [str(BIN / "dagster-daemon"), "run", "-w", workspace],
                    env=env,
                    cwd=PROJECT_DIR,
                    process_group=0,
                    # The daemon's lines and every run's (a DEBUG line per engine event) go to a file: the
                    # runs are read in the Dagster UI, and the terminal keeps what `up` says.
                    stdout=daemon_log,
                    stderr=subprocess.STDOUT,
                ),
            )
        )
        children.append(
            (
                "streamlit",
                subprocess.Popen(
                    streamlit_command(args.host, args.streamlit_port),
                    env={
                        **dashboards_env(env),
                        "PM_INTEL_API_URL": f"http://{_url_host(args.host)}:{api_port}",
                    },
                    cwd=PROJECT_DIR,
                    process_group=0,
                ),
            )
        )
        streamlit_proc = children[-1][1]
        api_proc = subprocess.Popen(
            api_command(args.host, api_port), env=api_env(env), cwd=PROJECT_DIR, process_group=0
        )
        children.append(("api", api_proc))
        dagster_url = f"http://{_url_host(args.dagster_host)}:{args.dagster_port}"
        streamlit_url = f"http://{_url_host(args.host)}:{args.streamlit_port}"
        api_url = f"http://{_url_host(args.host)}:{api_port}"
        wait_http(f"{dagster_url}/server_info", 180, children[-4][1], "dagster-webserver")
        wait_http(f"{streamlit_url}/_stcore/health", 120, streamlit_proc, "streamlit")
        wait_http(f"{api_url}/health", 120, api_proc, "api")
        launch_first_crawl(urls.warehouse, workspace, env)
        for warning in exposure_warnings(args, env):
            print(warning)
        print(
            f"\npm-intel is up.\n  Dagster UI:  {dagster_url}\n  Dashboards:  {streamlit_url}\n"
            f"  API:         {api_url} (OpenAPI at {api_url}/docs; a token: pm-intel api token create)\n"
            f"  Daemon and run logs: {daemon_log_path}\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    raise CliError(f"{name} exited with code {proc.returncode}; stopping the rest")
            time.sleep(1)
    except (KeyboardInterrupt, StopRequested):
        print("\nstopping...", flush=True)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the cleanup short
            signal.signal(sig, lambda *_: None)
        stop_process_tree([proc for _name, proc in reversed(children)])
        stack.close()
        if urls.embedded and not args.keep_db and not embedded_was_running:
            postgres_server.stop(settings.pg_data_dir)
            print("stopped embedded PostgreSQL")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
