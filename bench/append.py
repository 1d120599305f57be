"""Issue 2: write throughput of the command side, on SQLite and PostgreSQL.

1. Commands per second through ``platform.handle`` (load, decide, append, commit; 70%
   deposits / 30% withdrawal requests on existing wallets) beside one INSERT + COMMIT per
   row of the same rows (same events table, same payload JSON, same driver). Target >= 30%.
2. The simulator's backfill (``platform.batch`` chunks) beside a multi-row insert
   (executemany, one transaction per backfill transaction) of the same rows. Target >= 50%.

``python -m bench.append`` (defaults: a few minutes); full size:
``python -m bench.append --commands 5000 --backfill-events 200000``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from collections.abc import Sequence
from typing import Any

from bench import writes
from bench.common import human, machine_note, median, print_table, rate, verdict
from bench.databases import BACKENDS, scratch_store
from domain.eventstore.sql import SqlEventStore

HANDLE_TARGET = 0.30
BACKFILL_TARGET = 0.50


def _open(url: str) -> SqlEventStore:
    return SqlEventStore.open(url, application_name="bench-append")


def bench_handle(backend: str, commands: int, users: int, runs: int) -> dict[str, Any]:
    url, remove = scratch_store(backend, f"bench_append_{os.getpid()}")
    store = _open(url)
    full, raw = [], []
    try:
        wallets = writes.seed_wallets(store, users)
        for run in range(runs):
            mix = writes.command_mix(wallets, commands, seed=run)
            before = writes.last_position(store)
            full.append(rate(len(mix), writes.handle_all(store, mix)))
            rows = writes.rows_after(store, before)
            raw.append(rate(len(rows), writes.insert_one_per_transaction(store, rows, f"r{run}")))
    finally:
        store.close()
        remove()
    ratios = sorted(f / r for f, r in zip(full, raw, strict=True))
    return {"full": median(full), "raw": median(raw), "ratio": median(ratios)}


def bench_backfill(backend: str, events: int, runs: int) -> dict[str, Any]:
    full, raw, produced = [], [], 0
    for run in range(runs):
        url, remove = scratch_store(backend, f"bench_backfill_{os.getpid()}")
        copy_url, remove_copy = scratch_store(backend, f"bench_backfill_raw_{os.getpid()}")
        store, copy = _open(url), _open(copy_url)
        try:
            seconds, produced = writes.backfill(store, events, seed=1)
            full.append(rate(produced, seconds))
            rows = writes.rows_after(store, 0)
            raw.append(rate(len(rows), writes.insert_multirow(copy, rows)))
        finally:
            store.close()
            copy.close()
            remove()
            remove_copy()
        print(f"  {backend} backfill run {run + 1}: {full[-1]:,.0f} vs raw {raw[-1]:,.0f} ev/s",
              flush=True)  # fmt: skip
    ratios = sorted(f / r for f, r in zip(full, raw, strict=True))
    return {"full": median(full), "raw": median(raw), "ratio": median(ratios),
            "events": produced}  # fmt: skip


def profile(backend: str, commands: int, users: int, events: int) -> None:
    """cProfile of one run of each path: where the time goes (top functions)."""
    url, remove = scratch_store(backend, f"bench_profile_{os.getpid()}")
    store = _open(url)
    try:
        wallets = writes.seed_wallets(store, users)
        mix = writes.command_mix(wallets, commands, seed=99)
        _report(f"{backend}: platform.handle x {commands}",
                lambda: writes.handle_all(store, mix))  # fmt: skip
    finally:
        store.close()
        remove()
    url, remove = scratch_store(backend, f"bench_profile_{os.getpid()}")
    store = _open(url)
    try:
        _report(f"{backend}: backfill of ~{events:,} events",
                lambda: writes.backfill(store, events, seed=1))  # fmt: skip
    finally:
        store.close()
        remove()


def _report(title: str, work: Any) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(work)
    print(f"\n#### profile: {title}\n```")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(18)
    print("```", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.append", description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--commands", type=int, default=1000, help="commands per run")
    parser.add_argument("--users", type=int, default=500, help="wallets the commands hit")
    parser.add_argument("--backfill-events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="median of this many runs")
    parser.add_argument("--profile", action="store_true", help="also print cProfile tops")
    args = parser.parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    print(f"machine: {machine_note()}", flush=True)
    rows = []
    for backend in backends:
        handle = bench_handle(backend, args.commands, args.users, args.runs)
        rows.append([backend, f"platform.handle, N={args.commands} commands x {args.runs}",
                     f"{human(handle['full'])} cmd/s", "INSERT+COMMIT per row",
                     f"{human(handle['raw'])} rows/s", f"{handle['ratio']:.1%}", ">= 30%",
                     verdict(handle["ratio"] >= HANDLE_TARGET)])  # fmt: skip
        fill = bench_backfill(backend, args.backfill_events, args.runs)
        rows.append([backend, f"simulator backfill, N={fill['events']:,} events x {args.runs}",
                     f"{human(fill['full'])} ev/s", "executemany per backfill tx",
                     f"{human(fill['raw'])} rows/s", f"{fill['ratio']:.1%}", ">= 50%",
                     verdict(fill["ratio"] >= BACKFILL_TARGET)])  # fmt: skip
    print_table(
        "bench/append.py: writes vs raw driver (median of runs; ratio = median of per-run ratios)",
        ["backend", "path", "rate", "baseline", "baseline rate", "ratio", "target", "met?"],
        rows,
    )
    if args.profile:
        for backend in backends:
            profile(backend, args.commands, args.users, args.backfill_events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
