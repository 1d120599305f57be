"""``python -m dashboard.demo`` (``make demo``): the simulator (two days of history, then live
traffic at the same density, so the charts go on without a step), ingest and the dashboard
together; prints the URL; Ctrl-C stops all three.

It exits when any of them exits, stopping the others, with that one's exit status.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from ingest.cli import CONFIG_ENV

STOP_GRACE_S = 10.0
DEFAULT_INCIDENT = "payment-outage@-6h:20m"  # in the withdrawal failure rate and settlement time


def commands(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    python = sys.executable
    config = ["--config", args.config]
    return [
        ("simulator", [python, "-m", "domain", "simulate", *config, "--backfill", args.backfill,
                       "--backfill-rate", str(args.rate), "--rate", str(args.rate),
                       *(arg for incident in args.incident for arg in ("--incident", incident)),
                       "--no-progress", "--report-every", "60"]),
        ("ingest", [python, "-m", "ingest", *config, "run"]),
        ("dashboard", [python, "-m", "streamlit", "run", str(Path(__file__).with_name("app.py")),
                       "--server.port", str(args.port), "--server.address", args.address,
                       "--server.headless", "true", "--browser.gatherUsageStats", "false",
                       "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"]),
    ]  # fmt: skip


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.demo", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--config", default=os.environ.get(CONFIG_ENV, "config.yaml"))
    parser.add_argument("--backfill", default="2d", help="history written first (default 2d)")
    parser.add_argument(
        "--rate", type=float, default=2.0,
        help="events per second, of the history and live (default 2: ~350k events of history)",
    )  # fmt: skip
    parser.add_argument(
        "--incident", action="append", default=None,
        help="as the simulator's --incident, repeatable (default: a payment outage 6 hours ago "
        f"for 20 minutes, {DEFAULT_INCIDENT}; --incident none for a quiet history)",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args(argv)
    chosen = [DEFAULT_INCIDENT] if args.incident is None else args.incident
    args.incident = [incident for incident in chosen if incident != "none"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    env = {**os.environ, CONFIG_ENV: str(Path(args.config).resolve())}
    url = f"http://{args.address}:{args.port}"
    return supervise(commands(args), env, f"LedgerLens demo: open {url}  (Ctrl-C stops all three)")


def supervise(programs: Sequence[tuple[str, list[str]]], env: dict[str, str], banner: str) -> int:
    """Start every program, forward SIGINT/SIGTERM to them, and when one exits (or on a
    signal) stop the rest; return the first one's exit status (0 after a signal)."""
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for name, command in programs:
            # a session of its own: a terminal's Ctrl-C reaches it through us, exactly once
            children[name] = subprocess.Popen(command, env=env, start_new_session=True)
        print(f"\n{banner}\n", flush=True)
        status = 0
        while not stopping:
            ended = [(name, child.returncode) for name, child in children.items()
                     if child.poll() is not None]  # fmt: skip
            if ended:
                name, status = ended[0]
                print(f"{name} exited with status {status}: stopping the others", flush=True)
                break
            time.sleep(0.2)
        return status
    finally:
        _stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    for child in children.values():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
