"""The real-browser setup: a seeded database, a running ingest caught up with it,
``streamlit run`` serving the dashboard on a free port, and headless Chromium.

Chromium comes from $LEDGERLENS_TEST_BROWSER (default /usr/bin/chromium) and is never
downloaded; without it the browser tests skip, except when CI=true: then they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from domain.eventstore.sql import SqlEventStore
from domain.settings import DATABASE_URL_ENV
from ingest.cli import CONFIG_ENV
from ingest.readmodel import checkpoints
from tests.conftest import in_ci
from tests.integration.dashboard.world import config_document, simulate, write_config

ROOT = Path(__file__).resolve().parents[2]
BROWSER = os.environ.get("LEDGERLENS_TEST_BROWSER") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NOW = datetime(2024, 6, 30, 6, 0, tzinfo=UTC)  # the end of the seeded history
WAIT_S = 60.0


def chromium() -> str:
    if not Path(BROWSER).exists():
        reason = f"no Chromium at {BROWSER} (set LEDGERLENS_TEST_BROWSER)"
        if in_ci():
            pytest.fail(f"{reason}; CI=true makes the browser test mandatory", pytrace=False)
        pytest.skip(reason)
    return BROWSER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass(frozen=True)
class Served:
    url: str  # the dashboard's
    config: Path
    chromium: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A seeded database, a running ingest caught up with it, and the dashboard serving it."""
    executable = chromium()
    directory = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{directory / 'events.db'}"
    config = write_config(directory / "config.yaml", config_document(url))
    simulate(url, now=NOW, history=timedelta(hours=6), seed=5, backfill_rate=0.1)
    env = {**os.environ, CONFIG_ENV: str(config)}
    for name in (DATABASE_URL_ENV, "LEDGERLENS_DASHBOARD_USERS"):
        env.pop(name, None)
    ingest = subprocess.Popen(
        [sys.executable, "-m", "ingest", "--config", str(config), "run"], cwd=ROOT, env=env,
        stdout=(directory / "ingest.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    port = free_port()
    dashboard = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=(directory / "streamlit.log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        store = SqlEventStore.open(url)
        try:
            wait_until(lambda: ingest.poll() is None and caught_up(store), "ingest to catch up")
        finally:
            store.close()
        wait_until(lambda: healthy(base), "streamlit to serve")
        yield Served(base, config, executable)
    finally:
        stop(dashboard)
        stop(ingest)


def caught_up(store: SqlEventStore) -> bool:
    """Every group's checkpoint is at the head (the status page then shows no lag)."""
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(checkpoints.c.position)).scalars().all()
    except DBAPIError:  # the ingest has not created its tables yet
        return False
    return len(rows) >= 3 and set(rows) == {store.head().position}


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=served.chromium, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def visit(browser: Browser, url: str, ready: str, shot: Path) -> Page:
    """Open ``url``, wait for ``ready`` and for the app to finish running, screenshot it."""
    page = browser.new_page(viewport={"width": 1500, "height": 2200})
    page.goto(url)
    page.wait_for_selector(ready, timeout=WAIT_S * 1000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached",
                           timeout=WAIT_S * 1000)  # fmt: skip
    page.screenshot(path=str(shot), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")
    return page
