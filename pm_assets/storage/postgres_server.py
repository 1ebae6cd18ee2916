"""The embedded PostgreSQL used when no DATABASE_URL is given.

pgserver ships a real PostgreSQL 16 in a wheel and listens on a unix socket only, so a fresh machine
needs nothing but Python and no TCP port can clash. The server outlives the process that started it
(cleanup_mode=None): `pm-intel up` stops it explicitly, and a second start finds it running.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedPostgresError(RuntimeError):
    pass


def _quiet_import():
    # platformdirs warns about a missing XDG_RUNTIME_DIR on every import; it is harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver import _commands
    return pgserver, _commands


def _remove_stale_pid_file(data_dir: Path) -> bool:
    """A postmaster.pid left by a killed server whose pid now belongs to another process blocks startup."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError, OSError):
        pid = -1
    alive_postgres = False
    if pid > 0:
        try:
            with open(f"/proc/{pid}/comm") as fh:
                alive_postgres = fh.read().strip().startswith("postgres")
        except OSError:
            alive_postgres = False
    if alive_postgres:
        return False
    log.warning("removing stale postmaster.pid (pid %s is not a running postgres) in %s", pid, data_dir)
    pid_file.unlink(missing_ok=True)
    return True


def _forget_handle(pgserver, data_dir: Path) -> None:
    stale = pgserver.PostgresServer._instances.pop(data_dir.resolve(), None)
    if stale is not None:
        atexit.unregister(stale._cleanup)


def start(data_dir: Path) -> str:
    """Start (or find) the embedded server in `data_dir`; return a libpq URL to its `postgres` database."""
    data_dir = Path(data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgserver, _ = _quiet_import()
    # pgserver caches one handle per folder; after the server died under us that handle is stale.
    if not is_running(data_dir):
        _forget_handle(pgserver, data_dir)
    try:
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, AssertionError) as first:
        # A data folder left by a killed process: clear the stale lock and try once more.
        if not _remove_stale_pid_file(data_dir):
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL in {data_dir} did not start: {first}; see {data_dir / 'log'}"
            ) from first
        _forget_handle(pgserver, data_dir)
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    return server.get_uri()


def is_running(data_dir: Path) -> bool:
    data_dir = Path(data_dir).absolute()
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, OSError):
        return False
    return True


def stop(data_dir: Path) -> bool:
    """Stop the embedded server cleanly (fast shutdown: open sessions are rolled back, data is flushed)."""
    data_dir = Path(data_dir).absolute()
    if not is_running(data_dir):
        return False
    pgserver, commands = _quiet_import()
    system_user = "pgserver" if os.geteuid() == 0 else None
    commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=system_user)
    _forget_handle(pgserver, data_dir)
    return True
