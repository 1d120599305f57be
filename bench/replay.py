"""One measured replay, run in its own process (so its peak RSS is its own).

``python -m bench.replay MODE URL [--config config.yaml] [--profile FILE]`` prints one JSON
line. Modes:

- ``raw``: keyset pages of 10k through the driver, payloads decoded with orjson, nothing else
  (with the ingest runtime's garbage-collector settings, ``ingest/collector.py``);
- ``noop``: the ingest runtime, ``--once`` from START, with a do-nothing projection
  (read, checkpoint, commit);
- ``decode``: the ingest runtime with a projection that decodes the payload and the minute
  of every event a configured metric reads, and computes nothing (the kpis replay's floor);
- ``kpis``: the ingest runtime running the shipped config's ``kpis`` group.

The caller resets the read model first (``bench.stores.reset_read_model``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection

from bench.common import peak_rss_mb, rss_mb
from bench.databases import libpq_url
from domain.eventstore import RecordedEvent
from domain.settings import DATABASE_URL_ENV
from ingest.collector import tune_collector
from ingest.config_loader import load_settings
from ingest.projection import Projection
from ingest.runtime import bootstrap
from ingest.settings import GroupSettings

PAGE = 10_000
_COLUMNS = (
    "position, tx_id, stream_id, stream_type, version, event_type, schema_version, "
    "occurred_at, recorded_at"
)


class NoopProjection(Projection):
    """Reads nothing from the events and writes nothing: the runtime's own cost."""

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        return None


class DecodeProjection(Projection):
    """Decodes what any Python projection of the shipped metrics must read, and computes
    nothing: the payload and the minute of every event of a type a metric reads. The floor
    under the kpis replay (reading + decoding), measured beside it."""

    def __init__(self, types: str) -> None:  # comma-separated (group options are scalars)
        self.types = frozenset(types.split(","))

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        types = self.types
        for event in events:
            if event.event_type in types:
                event.payload  # noqa: B018 - decoding is the point
                event.occurred_minute()


def read_types(settings: Any) -> list[str]:
    """Event types the configured metrics read."""
    from ingest.metrics.aggregation import compile_metrics
    from ingest.metrics.projection import stores_figures

    plan = compile_metrics([m for m in settings.metrics if stores_figures(m)], strict=False)
    return sorted(plan.types)


def raw_scan(url: str) -> int:
    tune_collector()  # the same collector settings as the runtime it is compared with
    postgres = not url.startswith("sqlite")
    mark = "%s" if postgres else "?"
    payload = "payload::text, metadata::text" if postgres else "payload, metadata"
    sql = (
        f"SELECT {_COLUMNS}, {payload} FROM events WHERE (tx_id, position) > ({mark}, {mark}) "
        f"ORDER BY tx_id, position LIMIT {PAGE}"
    )
    conn: Any = (
        psycopg.connect(libpq_url(url))
        if postgres
        else sqlite3.connect(url.removeprefix("sqlite:///"))
    )
    loads = orjson.loads
    count, after = 0, (0, 0)
    try:
        cursor = conn.cursor()
        while True:
            cursor.execute(sql, after)
            rows = cursor.fetchall()
            if not rows:
                return count
            payloads = [loads(r[9]) for r in rows]
            count += len(payloads)
            after = (rows[-1][1], rows[-1][0])
            if postgres:
                conn.commit()  # one short transaction per page, like the runtime's reads
    finally:
        conn.close()


def run_ingest(
    url: str, config: Path, mode: str, *, profiler: cProfile.Profile | None
) -> tuple[int, float]:
    """Events replayed and seconds of ``run(once=True)`` (settings and bootstrap excluded)."""
    os.environ[DATABASE_URL_ENV] = url
    settings = load_settings(config)
    if mode == "noop":
        group = GroupSettings(name="noop", handler="bench.replay:NoopProjection", critical=True)
        settings = settings.model_copy(update={"groups": [group]})
        runtime = bootstrap(settings)
    elif mode == "decode":
        group = GroupSettings(
            name="decode", handler="bench.replay:DecodeProjection", critical=True,
            options={"types": ",".join(read_types(settings))},
        )  # fmt: skip
        settings = settings.model_copy(update={"groups": [group]})
        runtime = bootstrap(settings)
    else:
        runtime = bootstrap(settings, only=["kpis"])
    started = time.perf_counter()
    try:
        if profiler is None:
            if not runtime.run(once=True):
                raise RuntimeError(f"replay failed: {runtime.failures}")
        else:  # cProfile sees one thread: run the group's loop in this one
            profiler.enable()
            for processor in runtime.processors:
                processor.run(runtime.stop, runtime.waker, once=True)
            profiler.disable()
        seconds = time.perf_counter() - started
        return sum(p.state.events_total for p in runtime.processors), seconds
    finally:
        runtime.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay")
    parser.add_argument("mode", choices=["raw", "noop", "decode", "kpis"])
    parser.add_argument("url")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--profile", type=Path, help="write cProfile stats here")
    args = parser.parse_args(argv)
    before = rss_mb()
    profiler = cProfile.Profile() if args.profile else None
    if args.mode == "raw":
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        events = raw_scan(args.url)
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
    else:
        events, seconds = run_ingest(args.url, args.config, args.mode, profiler=profiler)
    if profiler is not None:
        profiler.dump_stats(str(args.profile))
    report = {"mode": args.mode, "events": events, "seconds": seconds,
              "rss_before_mb": before, "peak_rss_mb": peak_rss_mb()}  # fmt: skip
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
