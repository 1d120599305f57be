"""The code base stays ruff clean: the brief's quality bar, checked with the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing_to_complain_about() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None, "ruff is in requirements.txt; install it"
    result = subprocess.run(
        [ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_python_sources_are_as_ruff_formats_them() -> None:
    """(The docs' code blocks keep their aligned comments: only the packages are checked.)"""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None, "ruff is in requirements.txt; install it"
    packages = ["domain", "ingest", "dashboard", "tests", "bench"]
    result = subprocess.run(
        [ruff, "format", "--check", "--no-cache", *packages],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
