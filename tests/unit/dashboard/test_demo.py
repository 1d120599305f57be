"""The demo launcher: stops everything when one program exits or on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dashboard.demo import commands, parse_args, supervise

ROOT = Path(__file__).resolve().parents[3]
SLEEPER = "import time, pathlib, os, sys; pathlib.Path(sys.argv[1]).write_text(str(os.getpid())); time.sleep(120)"  # noqa: E501


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = (
        Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "X"
    )
    return state not in ("Z", "X")


def wait_for(path: Path) -> int:
    deadline = time.monotonic() + 30
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)
    return int(path.read_text())


def test_when_one_program_exits_the_others_are_stopped_and_its_status_returned(tmp_path: Path):
    started = time.monotonic()
    status = supervise(
        [("sleeper", [sys.executable, "-c", SLEEPER, str(tmp_path / "pid")]),
         ("crasher", [sys.executable, "-c", "import time; time.sleep(1); raise SystemExit(3)"])],
        dict(os.environ), "banner",
    )  # fmt: skip
    assert status == 3
    assert not alive(wait_for(tmp_path / "pid"))
    assert time.monotonic() - started < 30


def test_ctrl_c_stops_every_program_and_the_launcher(tmp_path: Path):
    script = tmp_path / "launch.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from dashboard.demo import commands, parse_args, supervise
        programs = [(n, [sys.executable, "-c", {SLEEPER!r}, {str(tmp_path)!r} + "/" + n])
                    for n in ("one", "two", "three")]
        sys.exit(supervise(programs, dict(os.environ), "banner"))
    """)
    )
    launcher = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    pids = [wait_for(tmp_path / name) for name in ("one", "two", "three")]
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 0
    assert [alive(pid) for pid in pids] == [False, False, False]
    assert b"banner" in (launcher.stdout.read() if launcher.stdout else b"")


def test_the_launcher_describes_itself():
    result = subprocess.run([sys.executable, "-m", "dashboard.demo", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert "Ctrl-C stops all three" in result.stdout


def simulator_command(*argv: str) -> list[str]:
    return dict(commands(parse_args(argv)))["simulator"]


def option(command: list[str], name: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == name]


def test_the_demo_history_has_the_live_density_so_the_charts_go_on_without_a_step():
    command = simulator_command("--rate", "3")
    assert option(command, "--backfill-rate") == option(command, "--rate") == ["3.0"]
    assert option(command, "--backfill") == ["2d"]


def test_the_demo_history_holds_a_payment_outage_unless_told_otherwise():
    assert option(simulator_command(), "--incident") == ["payment-outage@-6h:20m"]
    assert option(simulator_command("--incident", "none"), "--incident") == []
    chosen = simulator_command("--incident", "marketing-campaign@-1d:3h")
    assert option(chosen, "--incident") == ["marketing-campaign@-1d:3h"]
