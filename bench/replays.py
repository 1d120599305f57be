"""Running measured replays in their own processes (``bench/replay.py``) and reading their
reports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import stores
from bench.common import median, rate


def replay(mode: str, url: str, config: Path) -> dict[str, Any]:
    if mode != "raw":
        stores.reset_read_model(url)
    out = subprocess.run(
        [sys.executable, "-m", "bench.replay", mode, url, "--config", str(config)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def replays(store: stores.StoreInfo, modes: Sequence[str], runs: int, config: Path
            ) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Each mode ``runs`` times, interleaved (drift hits all modes alike)."""
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for run in range(runs):
        for mode in modes:
            result = replay(mode, store.url, config)
            if result["events"] != store.events:
                raise AssertionError(f"{mode} read {result['events']} of {store.events} events")
            results[mode].append(result)
            per_s = rate(result["events"], result["seconds"])
            print(f"  {store.name} run {run + 1} {mode}: {per_s:,.0f} ev/s, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)  # fmt: skip
    return results


def speed(results: list[dict[str, Any]]) -> float:
    return median([rate(r["events"], r["seconds"]) for r in results])


def paired(measured: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> float:
    """Median over runs of measured rate / baseline rate of the same (interleaved) run."""
    return median([b["seconds"] / m["seconds"] for m, b in zip(measured, baseline, strict=True)])
