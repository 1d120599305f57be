"""Rows 4, 6, 7 and 8 of the ingest benchmark (``bench/ingest.py``)."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path

from bench import library_run, query, store_versions, stores
from bench.common import human, median, verdict
from bench.live import run_live
from bench.replays import replay, speed


def bench_library(backend: str, big: stores.StoreInfo, args: argparse.Namespace
                  ) -> tuple[float, int]:  # fmt: skip
    name = f"es_{backend}_{os.getpid()}"
    try:
        events, last_id = library_run.load_library_store(
            backend, name, big.url, args.library_events
        )
        times = []
        for run in range(args.runs):
            times.append(library_run.project(backend, name, last_id, events))
            print(f"  eventsourcing run {run + 1}: {events / times[-1]:,.0f} ev/s", flush=True)
        return events / median(times), events
    finally:
        library_run.drop_library_store(backend, name)


def bench_query(young: stores.StoreInfo, big: stores.StoreInfo, config: Path) -> list[list[str]]:
    """On each store's kpis read model (left by its last replay): the last 30 days of it."""
    rows = []
    for store in (young, big):
        result = query.measure(store.url, store.last, config, runs=5)
        share = result.series_s / result.direct_s
        rows.append([f"6. MetricsQuery.series_many 20 metrics x 30d/1h ({store.name})",
                     f"{result.rows_in_window:,} ev in window",
                     f"{result.series_s * 1000:.1f} ms", "one GROUP BY (same answer)",
                     f"{share:.1%} ({result.direct_s * 1000:.0f} ms)", "< 5%",
                     verdict(share < 0.05)])  # fmt: skip
    # Flat with history: the same 7-day window (full on both stores, so the same number of
    # events in it) at the end of a store with 4x the history before it. (The 30-day window
    # of the young store is only a quarter full: comparing those compares window contents.)
    week = [query.measure(s.url, s.last, config, runs=5, window=timedelta(days=7)).series_s
            for s in (young, big)]  # fmt: skip
    growth = week[1] / week[0]
    rows.append(["6b. series, last 7 days: full vs young history (4x the history)", "-",
                 f"{week[0] * 1000:.1f} -> {week[1] * 1000:.1f} ms", "young store",
                 f"{growth:.2f}x", "flat (< 1.5x)", verdict(growth < 1.5)])  # fmt: skip
    return rows


def bench_upcasting(backend: str, young: stores.StoreInfo, args: argparse.Namespace
                    ) -> list[str]:  # fmt: skip
    tag = f"{args.events}_{args.seed}"
    current = store_versions.versioned_copy(backend, young, f"cur_{tag}", to_v1=False)
    old = store_versions.versioned_copy(backend, young, f"v1_{tag}", to_v1=True)
    # at least 5 pairs: one ~2.5 s replay varies by +-10% on this project's VM, as much as
    # the difference measured (callgrind: +3.6% instructions)
    pairs = [(replay("kpis", current.url, args.config), replay("kpis", old.url, args.config))
             for _ in range(max(args.runs, 5))]  # fmt: skip
    slower = median([v1["seconds"] / cur["seconds"] for cur, v1 in pairs]) - 1
    return ["7. kpis replay, half of FundsDeposited/UserRegistered v1", f"{old.events:,}",
            f"{human(speed([v1 for _, v1 in pairs]))} ev/s",
            f"same store, current ({human(speed([cur for cur, _ in pairs]))} ev/s)",
            f"{slower:+.1%} time", "<= +10%", verdict(slower <= 0.10)]  # fmt: skip


def bench_live(args: argparse.Namespace) -> list[list[str]]:
    """The simulator at --live-rate; and paced appends from a thread at the same rate (the
    simulator's one-command-per-transaction live mode may not reach it)."""
    rows = []
    for source in ("simulator", "thread"):
        result = run_live(args.config, args.live_rate, args.live_seconds, args.seed, source=source)
        print(result.simulator_tail, flush=True)
        print(
            f"  oldest open writing transaction in the cluster during the run: p95 "
            f"{result.oldest_write_p95:.2f} s, max {result.oldest_write_max:.2f} s",
            flush=True,
        )
        note = f"{source}: {result.appended:,} ev at {result.append_rate:,.0f} ev/s"
        rows += [
            [f"8. live commit-to-handler latency ({source})", note,
             f"p50 {result.handler_p50 * 1000:.0f} ms", "-",
             f"p95 {result.handler_p95 * 1000:.0f} ms", "p95 < 200 ms",
             verdict(result.handler_p95 < 0.2)],
            [f"8. live commit-to-visible, MetricsQuery.value ({source})",
             f"{result.deposits:,} deposits", f"p50 {result.visible_p50 * 1000:.0f} ms", "-",
             f"p95 {result.visible_p95 * 1000:.0f} ms", "p95 < 1 s",
             verdict(result.visible_p95 < 1.0)],
        ]  # fmt: skip
    return rows
