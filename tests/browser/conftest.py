"""Browser tests: the real `streamlit run` app on a free 127.0.0.1 port over a seeded database, driven by
Debian's Chromium through Playwright (never `playwright install`: there is no download here)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _create_db, _drop_db
from tests.support.seed import SeedWorld, seed_world
from tests.waiting import HANG_S, wait_for

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser_world(pg_server_url: str, migrated_template: str) -> Iterator[SeedWorld]:
    name = f"pm_intel_browser_{os.getpid()}"
    url = _create_db(pg_server_url, name, template=migrated_template)
    world = seed_world(url)
    world.url = url  # type: ignore[attr-defined]
    yield world
    _drop_db(pg_server_url, name)


@pytest.fixture(scope="module")
def app_extra_env() -> dict[str, str]:
    """Environment a module adds to its app (override it in the module, e.g. to allow a loopback receiver)."""
    return {}


@contextlib.contextmanager
def streamlit_app(
    database_url: str, tmp_path_factory, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """`streamlit run` of the dashboards over `database_url` on a free loopback port; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASHBOARD_", "DAGSTER_PG_URL"))}
    env.update(
        DATABASE_URL=database_url,
        PM_INTEL_HOME=str(tmp_path_factory.mktemp("home")),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    env.pop("PM_INTEL_DASHBOARD_PASSWORD", None)
    env.pop("PM_INTEL_ALLOW_PRIVATE_WEBHOOKS", None)
    env.update(extra_env or {})
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(PROJECT / "dashboards" / "streamlit_app.py"),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.fileWatcherType",
                "none",
            ],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=HANG_S) as answer:
                    return answer.status == 200
            except OSError:
                return False

        wait_for(
            healthy,
            "streamlit healthy",
            pause_s=0.2,
            hang_s=5 * HANG_S,
            context=lambda: log.read_text()[-2000:],
        )
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def app_url(browser_world: SeedWorld, tmp_path_factory, app_extra_env: dict[str, str]) -> Iterator[str]:
    with streamlit_app(browser_world.url, tmp_path_factory, app_extra_env) as base:  # type: ignore[attr-defined]
        yield base


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI is set and /usr/bin/chromium is missing: run tests/browser/ensure_chromium.sh")
        pytest.skip(
            "/usr/bin/chromium is missing (apt-get install chromium, or tests/browser/ensure_chromium.sh)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Streamlit scrolls inside its own container, so a tall viewport (not full_page) shows the whole page.
    page.screenshot(path=str(path))
    return path
