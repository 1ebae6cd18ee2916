"""A real `pm-intel up --sim`: each UI listens where its flag says, and Ctrl-C or SIGTERM is a normal stop.

Ctrl-C in a terminal sends SIGINT to the whole foreground process group (pm-intel and every child); a
process started in the background by a non-interactive shell (a script, CI) has SIGINT ignored, while its
children (pm_sim, the Dagster webserver) install their own handlers and still exit on it. Either way the
stop must read as one: exit code 0 and no error line.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

PM_INTEL = Path(sys.executable).parent / "pm-intel"
HANG_BOUND_S = 600  # only catches a hang: startup on a busy 2-core machine takes a minute or two


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Output:
    """Every line the process prints, read as it comes; `wait_for` blocks until a line contains `text`."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<eof>")
            self._changed.notify_all()

    def wait_for(self, text: str) -> None:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines) or "<eof>" in self.lines, HANG_BOUND_S
            )
        assert found and any(text in line for line in self.lines), "\n".join(self.lines[-60:])

    def text(self) -> str:
        self._thread.join(HANG_BOUND_S)
        return "\n".join(self.lines)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def home():
    # One embedded Postgres for the runs of this module, inside the checkout like the test server: under
    # pytest's own temp root, a later pytest session's chmod 0700 locks the server's user out of it.
    state = PROJECT_DIR / ".pm-intel"
    state.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="up-lifecycle-", dir=state))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _start_up(home: Path, *, ignore_sigint: bool) -> tuple[subprocess.Popen, Output, int, int, int]:
    dagster_port, streamlit_port, api_port = _free_port(), _free_port("127.0.0.2"), _free_port("127.0.0.2")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DAGSTER_", "DASHBOARD_"))
    }
    env.update(PM_INTEL_HOME=str(home), PYTHONUNBUFFERED="1")

    def ignore() -> None:  # as `cmd &` in a non-interactive shell starts it
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(
        [
            str(PM_INTEL),
            "up",
            "--sim",
            "--sim-arg=--markets=20",
            "--host",
            "127.0.0.2",
            "--dagster-port",
            str(dagster_port),
            "--streamlit-port",
            str(streamlit_port),
            "--api-port",
            str(api_port),
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
        preexec_fn=ignore if ignore_sigint else None,
    )
    output = Output(proc)
    output.wait_for("Ctrl-C stops everything.")
    return proc, output, dagster_port, streamlit_port, api_port


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "to_group", "ignore_sigint"),
    [
        # The terminal's Ctrl-C takes the same path: `up` installs its own handler either way.
        pytest.param(signal.SIGINT, True, True, id="ctrl-c-to-a-background-job"),
        pytest.param(signal.SIGTERM, False, False, id="sigterm-to-pm-intel"),
    ],
)
def test_a_stop_by_signal_exits_0_with_no_error_line(home, sig, to_group, ignore_sigint):
    proc, output, dagster_port, streamlit_port, api_port = _start_up(home, ignore_sigint=ignore_sigint)
    try:
        # The API listens beside the dashboards, answers /health, and refuses /v1 without a token.
        output.wait_for(f"API:         http://127.0.0.2:{api_port}")
        with urllib.request.urlopen(f"http://127.0.0.2:{api_port}/health", timeout=30) as answer:
            assert answer.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.2:{api_port}/v1/signals", timeout=30)
        assert refused.value.code == 401
        # --host binds the dashboards; the Dagster UI (no login) stays on 127.0.0.1 unless --dagster-host says.
        assert _listening("127.0.0.2", streamlit_port)
        with urllib.request.urlopen(f"http://127.0.0.1:{dagster_port}/server_info", timeout=30) as answer:
            assert answer.status == 200
        assert not _listening("127.0.0.2", dagster_port)
        assert not _listening("127.0.0.1", streamlit_port)
    finally:
        (os.killpg if to_group else os.kill)(proc.pid, sig)
        code = proc.wait(HANG_BOUND_S)
    text = output.text()
    assert code == 0, text[-4000:]
    assert "pm-intel: error" not in text, text[-4000:]
