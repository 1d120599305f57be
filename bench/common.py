"""Shared benchmark helpers: timing, tables, peak memory and the machine note."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from bench.databases import base_pg_url, libpq_url


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def human(value: float) -> str:
    """12,345 / 1.23 M style numbers for tables."""
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e4:
        return f"{value / 1e3:.1f} k"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Print (and return) a Markdown table, so the output pastes into RESULTS.md."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
            for r in cells]  # fmt: skip
    text = "\n".join([f"\n### {title}\n", line, rule, *body, ""])
    print(text, flush=True)
    return text


def peak_rss_mb() -> float:
    """VmHWM of this process (peak resident set), in MB."""
    return _status_kb("VmHWM") / 1024


def rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_note() -> str:
    cores = os.cpu_count()
    try:
        with psycopg.connect(libpq_url(base_pg_url()), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            server = f"PostgreSQL {row[0] if row else '?'}"
    except psycopg.Error:
        server = "PostgreSQL unreachable"
    return (
        f"{cores} cores, Python {platform.python_version()}, {server}, "
        f"load average {load_average()} (1/5/15 min) at start"
    )
