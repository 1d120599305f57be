"""The seed's lesson 2: the ingest never holds more PostgreSQL connections than its pool."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from domain.eventstore.sql import SqlEventStore
from ingest.config_loader import load_settings
from ingest.report import group_report
from ingest.runtime import bootstrap
from tests.integration.ingest.helpers import (
    History,
    caught_up,
    direct_counts,
    kpis_group,
    projected_counts,
    running,
    wait_until,
    write_config,
)

POOL_SIZE = 4


class ConnectionSampler:
    """Counts the sessions named ``application_name`` every 2 ms from its own connection."""

    def __init__(self, connect: Callable[[], psycopg.Connection], application_name: str) -> None:
        self.conn = connect()
        self.application_name = application_name
        self.samples: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sampler")

    def count(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (self.application_name,),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _run(self) -> None:
        while not self.stop.wait(0.002):
            self.samples.append(self.count())


@pytest.mark.slow
def test_two_thousand_batches_and_status_queries_stay_within_the_pool(
    pg_url: str, pg_connect: Callable[[], psycopg.Connection], tmp_path: Path
) -> None:
    store = SqlEventStore.open(pg_url)
    History(store, streams=100).append_round(per_stream=100, streams_per_tx=20)  # 10,000
    name = f"ingest-test-{uuid.uuid4().hex[:8]}"  # other tests may run an ingest meanwhile
    config = write_config(
        tmp_path / "config.yaml",
        pg_url,
        groups=[kpis_group(batch_size=5)],  # 2,000 batches
        pool_size=POOL_SIZE,
        application_name=name,
    )
    runtime = bootstrap(load_settings(config))
    sampler = ConnectionSampler(pg_connect, name)
    queries = 0

    def query_status() -> None:
        nonlocal queries
        for _ in range(2000):
            report = group_report(runtime.store, runtime.engine)
            assert report == [] or report[0]["group"] == "kpis"
            queries += 1

    sampler.thread.start()
    try:
        started = time.monotonic()
        with running(runtime):
            reader = threading.Thread(target=query_status, name="status-queries")
            reader.start()
            wait_until(lambda: caught_up(store.engine, store, "kpis"), 120, "2,000 batches")
            reader.join(120)
            elapsed = time.monotonic() - started
        wait_until(lambda: sampler.count() == 0, 10, "every pooled connection to close")
        assert projected_counts(store.engine) == direct_counts(store.engine)
    finally:
        sampler.stop.set()
        sampler.thread.join(10)
        store.close()

    assert runtime.processors[0].state.events_total == 10_000  # five at a time: 2,000 batches
    assert queries == 2000
    peak = max(sampler.samples)
    print(f"\n{elapsed:.1f}s, {len(sampler.samples)} samples, at most {peak} connections")
    assert 2 <= peak <= POOL_SIZE
