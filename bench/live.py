"""Issue 3/4 live latency on PostgreSQL: the simulator appends live (``python -m domain
simulate --rate R`` in a subprocess) while the ingest runtime runs the shipped ``kpis`` group
plus a probe group in this process.

- commit-to-handler: the probe projection records ``now - recorded_at`` for every event
  (``recorded_at`` is taken when the append starts, so this includes the append itself);
- commit-to-visible: a poller reads ``MetricsQuery.value_between("deposit_count", ...)``
  every 50 ms; the i-th deposit (in read order) became visible at the first poll that
  counted at least i deposits; its latency is that poll's time minus its ``recorded_at``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.databases import connect, create_pg_schema, drop_pg_schema
from bench.live_probe import (
    LiveResult,
    ProbeProjection,
    append_paced,
    percentile,
    poll,
    visible_latencies,
    wait_for,
    watch_writers,
)
from domain.eventstore import EventStore
from domain.eventstore.engine import make_engine
from domain.settings import DATABASE_URL_ENV
from ingest.config_loader import load_settings
from ingest.metrics.query import MetricsQuery
from ingest.runtime import bootstrap
from ingest.settings import GroupSettings


def _simulate(config: Path, url: str, seed: int, *options: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "domain", "simulate", "--config", str(config), "--seed", str(seed),
         "--no-progress", "--report-every", "10", *options],
        env={**os.environ, DATABASE_URL_ENV: url}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout


def run_live(
    config: Path,
    rate: float,
    seconds: int,
    seed: int,
    *,
    source: str = "simulator",
    with_kpis: bool = True,
) -> LiveResult:
    """A short history first (so clients exist), ingest caught up, then the live run."""
    schema = f"bench_live_{os.getpid()}"
    url = create_pg_schema(schema)
    try:
        EventStore.from_url(url).close()
        _simulate(config, url, seed, "--backfill", "6h", "--backfill-rate", "1", "--duration", "0")
        if source == "simulator":

            def live() -> str:
                return _simulate(config, url, seed + 1, "--rate", str(rate), "--live-cycle",
                                 "0", "--duration", f"{seconds}s")  # fmt: skip
        else:

            def live() -> str:
                return append_paced(url, rate, seconds)

        return _measure(url, config, live, with_kpis=with_kpis)
    finally:
        drop_pg_schema(schema)


def _measure(
    url: str, config: Path, live: Callable[[], str], *, with_kpis: bool = True
) -> LiveResult:
    os.environ[DATABASE_URL_ENV] = url
    settings = load_settings(config)
    probe = ProbeProjection()
    groups = [*(g for g in settings.groups if g.name == "kpis" and with_kpis),
              GroupSettings(name="probe", handler="bench.live_probe:ProbeProjection")]  # fmt: skip
    runtime = bootstrap(settings.model_copy(update={"groups": groups}),
                        projections={"probe": probe})  # fmt: skip
    engine = make_engine(url, pool_size=2, application_name="bench-live-query")
    query = MetricsQuery.from_settings(engine, settings)
    stop_polls = threading.Event()
    polls: list[tuple[float, int]] = []
    end = int(time.time()) // 60 * 60 + 86400  # every deposit of the history and the run
    poller = threading.Thread(target=poll, args=(query, 0, end, stop_polls, polls))
    ingest = threading.Thread(target=runtime.run, name="bench-ingest")
    with connect(url) as conn:
        history = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    ages: list[float] = []
    watcher = threading.Thread(target=watch_writers, args=(url, stop_polls, ages))
    ingest.start()
    try:
        wait_for(lambda: len(probe.seen) >= history, 120)
        live_start = time.time()
        poller.start()
        watcher.start()
        tail = live()
        with connect(url) as conn:
            appended, first, last = conn.execute(
                "SELECT count(*), min(recorded_at), max(recorded_at) FROM events "
                "WHERE recorded_at >= to_timestamp(%s)",
                (live_start,),
            ).fetchone()
            deposits = conn.execute(
                "SELECT recorded_at FROM events WHERE event_type = 'FundsDeposited' "
                "ORDER BY tx_id, position"
            ).fetchall()
        wait_for(lambda: len(probe.seen) >= history + appended, 60)
        time.sleep(1.0)  # the last polls
    finally:
        stop_polls.set()
        poller.join()
        if watcher.is_alive():
            watcher.join()
        runtime.stop.set()
        ingest.join()
        runtime.close()
        engine.dispose()
    visible = visible_latencies([r[0].timestamp() for r in deposits], polls, live_start)
    handler = [seconds for at, seconds in probe.seen if at >= live_start]
    span = max((last - first).total_seconds(), 1e-9) if appended else 1.0
    return LiveResult(
        appended=int(appended),
        append_rate=appended / span,
        handler_p50=percentile(handler, 0.5),
        handler_p95=percentile(handler, 0.95),
        visible_p50=percentile(visible, 0.5),
        visible_p95=percentile(visible, 0.95),
        deposits=len(visible),
        simulator_tail="\n".join(tail.strip().splitlines()[-4:]),
        oldest_write_p95=percentile(ages, 0.95),
        oldest_write_max=max(ages, default=0.0),
    )
