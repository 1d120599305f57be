"""Live events reach the handlers within a blink: LISTEN/NOTIFY wakes the groups (PostgreSQL).

It runs on a private server: the store shows only events of transactions older than every
writing transaction still open on the whole server (its gap-safety horizon), so on a shared
server other people's long writes, in any database, add their length to the latency measured.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Connection

from domain.eventstore import RecordedEvent, StreamAppend
from domain.eventstore.sql import SqlEventStore
from ingest.config_loader import load_settings
from ingest.projection import Projection
from ingest.runtime import bootstrap
from tests.integration.ingest.helpers import (
    History,
    caught_up,
    new_event,
    running,
    wait_until,
    wallet,
    write_config,
)
from tests.integration.pg_server import PrivateServer

RATE = 500  # events per second
SECONDS = 5.0
PER_COMMIT = 10


class ArrivalClock(Projection):
    """Notes when each event first reaches the handler (time.monotonic())."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        now = time.monotonic()
        for event in events:
            self.arrived.setdefault(event.position, now)


@pytest.mark.slow
@pytest.mark.postgres
def test_events_appended_live_reach_the_handler_within_200_ms_at_the_95th_percentile(
    private_pg: PrivateServer, tmp_path: Path
) -> None:
    pg_url = private_pg.url
    store = SqlEventStore.open(pg_url)
    history = History(store, streams=50)
    history.append_round(per_stream=2)  # the group starts from a non-empty log
    config = write_config(
        tmp_path / "config.yaml",
        pg_url,
        groups=[{"name": "probe", "handler": "builtin:kpis"}],
        ingest={"idle_wait_s": 5.0},  # a wake-up, not polling, must bring the events
    )
    probe = ArrivalClock()
    runtime = bootstrap(load_settings(config), projections={"probe": probe})
    committed: dict[int, float] = {}

    def append_live() -> None:
        start = time.monotonic()
        for tick in range(int(RATE * SECONDS / PER_COMMIT)):
            time.sleep(max(0.0, start + tick * PER_COMMIT / RATE - time.monotonic()))
            stream = wallet(tick % 50 + 1)
            version = history.versions[stream]
            user = stream.removeprefix("wallet-")
            events = [new_event(history.n + i, user) for i in range(PER_COMMIT)]
            history.n += PER_COMMIT
            recorded = store.append_streams([StreamAppend(stream, "wallet", version, events)])
            now = time.monotonic()
            history.versions[stream] += PER_COMMIT
            committed.update((event.position, now) for event in recorded)

    try:
        with running(runtime):
            wait_until(lambda: caught_up(store.engine, store, "probe"), 15, "the backlog")
            writer = threading.Thread(target=append_live, name="live-appends")
            started = time.monotonic()
            writer.start()
            writer.join(SECONDS * 4)
            elapsed = time.monotonic() - started
            wait_until(lambda: committed.keys() <= probe.arrived.keys(), 10, "every event")
    finally:
        store.close()

    latencies = sorted(probe.arrived[p] - committed[p] for p in committed)
    p95 = statistics.quantiles(latencies, n=100)[94]
    rate = len(committed) / elapsed
    p50, worst = latencies[len(latencies) // 2], latencies[-1]
    print(
        f"\n{len(latencies)} events at {rate:.0f}/s: commit -> handle p50 {p50 * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {worst * 1000:.1f} ms"
    )
    assert len(committed) == RATE * SECONDS
    assert rate > 0.8 * RATE, f"the appender only managed {rate:.0f} events/s"
    assert p95 < 0.200, f"p95 commit -> handle latency {p95 * 1000:.0f} ms"
