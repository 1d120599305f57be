"""The dashboard's server memory under auto-refresh: the simulator (a day of history, then
live traffic at 20 events/s by default, ten times ``make demo``'s), ingest and ``streamlit
run`` started as ``make demo`` starts them, one headless
Chromium keeping the Overview open with auto-refresh every 10 s; the streamlit process's
resident memory (VmRSS) sampled for the whole run.

    .venv/bin/python -m bench.dashboard_memory --minutes 10
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright

from bench.common import machine_note, print_table, verdict
from ingest.cli import CONFIG_ENV

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("LEDGERLENS_TEST_BROWSER") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REFRESH_S = 10
WARM_UP_S = 60.0
SAMPLE_S = 10.0
TARGET_MB = 50.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"streamlit did not answer at {url}")


def soak(minutes: float, rate: float = 20.0) -> dict[str, float]:
    directory = Path(tempfile.mkdtemp(prefix="ledgerlens-soak-"))
    document = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    document["database"]["url"] = f"sqlite:///{directory / 'events.db'}"
    document["dashboard"] = {"refresh_s": REFRESH_S}
    config = directory / "config.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, CONFIG_ENV: str(config)}
    env.pop("LEDGERLENS_DATABASE_URL", None)
    port = free_port()
    python, options = sys.executable, ["--config", str(config)]
    commands = [
        [python, "-m", "domain", "simulate", *options, "--backfill", "1d", "--rate", str(rate),
         "--no-progress", "--report-every", "600"],
        [python, "-m", "ingest", *options, "run"],
        [python, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.port",
         str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
    ]  # fmt: skip
    log = (directory / "processes.log").open("wb")
    children = [subprocess.Popen(c, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                for c in commands]  # fmt: skip
    server = children[-1]
    url = f"http://127.0.0.1:{port}"
    samples: list[float] = []
    windows: set[str] = set()
    try:
        wait_healthy(url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            page.goto(f"{url}/?range=24h")
            page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)
            time.sleep(WARM_UP_S)
            ends = time.monotonic() + minutes * 60
            while time.monotonic() < ends:
                samples.append(rss_mb(server.pid))
                windows.add(page.locator('[data-testid="stCaptionContainer"]').first.inner_text())
                time.sleep(SAMPLE_S)
            samples.append(rss_mb(server.pid))
            errors = page.locator('[data-testid="stException"]').count()
            for index in range(errors):
                text = page.locator('[data-testid="stException"]').nth(index).inner_text()
                print(f"exception on the page:\n{text[:2000]}", flush=True)
            browser.close()
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            child.wait(timeout=30)
    growth = samples[-1] - samples[0]
    print_table(
        f"bench/dashboard_memory.py: streamlit RSS over {minutes:g} min of auto-refresh every "
        f"{REFRESH_S} s (simulator live at {rate:g} events/s, ingest running)",
        ["after warm-up", "at the end", "peak", "growth", "windows seen", "exceptions",
         "target", "met?"],
        [[f"{samples[0]:.1f} MB", f"{samples[-1]:.1f} MB", f"{max(samples):.1f} MB",
          f"{growth:+.1f} MB", len(windows), errors, f"< {TARGET_MB:.0f} MB",
          verdict(growth < TARGET_MB and errors == 0)]],
    )  # fmt: skip
    return {"start_mb": samples[0], "end_mb": samples[-1], "growth_mb": growth}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard_memory", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="live events per second")
    args = parser.parse_args()
    print(f"machine: {machine_note()}", flush=True)
    soak(args.minutes, args.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
