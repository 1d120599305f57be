"""Issues 3, 4, 7: the query side on simulated events, on SQLite and PostgreSQL.

``python -m bench.ingest`` (default ~100k events, a quarter-history store beside it);
full size: ``python -m bench.ingest --events 1000000``. Stores are generated once with the
simulator's backfill (30 days) and cached (``bench/stores.py``); every replay runs in its own
process (``bench/replay.py``) after the read model is dropped. One table per backend:
rate, baseline measured in the same run, ratio, target, met?
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import stores
from bench.common import human, machine_note, print_table, verdict
from bench.databases import BACKENDS, CACHE_DIR, drop_bench_database
from bench.ingest_rows import bench_library, bench_live, bench_query, bench_upcasting
from bench.replays import paired, replays, speed
from ingest.config_loader import load_settings


def bench_backend(backend: str, args: argparse.Namespace) -> list[list[str]]:
    config: Path = args.config
    big = stores.generated_store(backend, args.events, args.seed)
    young = stores.prefix_store(backend, big, big.events // 4, f"young_{args.events}_{args.seed}")
    rows = [["generation (simulator backfill 30d)", f"{big.events:,}",
             f"{human(big.generated_events_per_s)} ev/s", "-", "-", "-", "-"]]  # fmt: skip
    measured = {s.name: replays(s, ("raw", "noop", "decode", "kpis"), args.runs, config)
                for s in (young, big)}  # fmt: skip
    for store in (young, big):
        m = measured[store.name]
        raw, noop, kpis = speed(m["raw"]), speed(m["noop"]), speed(m["kpis"])
        noop_share, kpis_share = paired(m["noop"], m["raw"]), paired(m["kpis"], m["raw"])
        decode, decode_share = speed(m["decode"]), paired(m["decode"], m["raw"])
        rows.append([f"1. raw keyset scan + orjson ({store.name})", f"{store.events:,}",
                     f"{human(raw)} ev/s", "-", "-", "-", "-"])  # fmt: skip
        rows.append([f"2. runtime --once, no-op projection ({store.name})", f"{store.events:,}",
                     f"{human(noop)} ev/s", "raw scan", f"{noop_share:.1%}", ">= 80%",
                     verdict(noop_share >= 0.8)])  # fmt: skip
        rows.append(
            [
                f"2b. runtime + payload and minute of every event a metric reads, "
                f"no metric: the floor under 3. ({store.name})",
                f"{store.events:,}",
                f"{human(decode)} ev/s",
                "raw scan",
                f"{decode_share:.1%}",
                "-",
                "-",
            ]
        )
        rows.append([f"3. replay, shipped kpis group ({store.name})", f"{store.events:,}",
                     f"{human(kpis)} ev/s", "raw scan", f"{kpis_share:.1%}", ">= 50%",
                     verdict(kpis_share >= 0.5)])  # fmt: skip
    ours = speed(measured[big.name]["kpis"])
    lib_rate, lib_events = bench_library(backend, big, args)
    rows.append(["4. eventsourcing ProjectionRunner pattern" if backend == "postgres" else
                 "4. eventsourcing projection (pulled: no SQLite subscriptions)",
                 f"{lib_events:,}", f"{human(lib_rate)} ev/s", "ours (3., full store)",
                 f"{ours / lib_rate:.1f}x", ">= 20x", verdict(ours / lib_rate >= 20)])  # fmt: skip
    peak = {s.name: max(r["peak_rss_mb"] for r in measured[s.name]["kpis"]) for s in (young, big)}
    growth = peak[big.name] / peak[young.name]
    rows.append(["5. peak RSS of the kpis replay (VmHWM)", f"{young.events:,} -> {big.events:,}",
                 f"{peak[young.name]:.0f} -> {peak[big.name]:.0f} MB", "young store",
                 f"{growth:.2f}x", "< 300 MB, flat",
                 verdict(peak[big.name] < 300 and growth < 1.2)])  # fmt: skip
    rows += bench_query(young, big, config)
    rows.append(bench_upcasting(backend, young, args))
    if backend == "postgres" and args.live_seconds > 0:
        rows += bench_live(args)
    return rows


def snapshot_config(config: Path) -> Path:
    """A validated copy of the config: the whole run uses one config even if the file
    changes meanwhile."""
    load_settings(config)  # raises ConfigError with every problem
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    copy = CACHE_DIR / f"config-{os.getpid()}.yaml"
    copy.write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    add = parser.add_argument
    add("--backend", choices=[*BACKENDS, "both"], default="both")
    add("--events", type=int, default=100_000, help="size of the generated store")
    add("--seed", type=int, default=1)
    add("--runs", type=int, default=3, help="median of this many runs")
    add("--library-events", type=int, default=5_000, help="events the eventsourcing run projects")
    add("--live-rate", type=float, default=500.0)
    add("--live-seconds", type=int, default=30, help="0 skips the live benchmark")
    add("--config", type=Path, default=Path("config.yaml"))
    add("--clean", action="store_true", help="drop every cached store and exit")
    args = parser.parse_args(argv)
    if args.clean:
        drop_bench_database()
        for path in CACHE_DIR.glob("*"):
            path.unlink()
        return 0
    print(f"machine: {machine_note()}", flush=True)
    args.config = snapshot_config(args.config)
    for backend in BACKENDS if args.backend == "both" else (args.backend,):
        rows = bench_backend(backend, args)
        print_table(f"bench/ingest.py on {backend} (median of {args.runs}; load now "
                    f"{os.getloadavg()[0]:.2f})",
                    ["measure", "N", "rate / time", "baseline", "ratio", "target", "met?"],
                    rows)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
