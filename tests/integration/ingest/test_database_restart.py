"""The ingest rides out PostgreSQL restarts (fast and immediate) while events keep coming."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError

from domain.eventstore import ConcurrencyError, EventStore
from domain.eventstore.sql import SqlEventStore
from ingest.config_loader import load_settings
from ingest.report import group_report
from ingest.runtime import bootstrap
from tests.integration.ingest.helpers import (
    History,
    all_positions,
    caught_up,
    direct_counts,
    handled_rows,
    kpis_group,
    projected_counts,
    recording_group,
    running,
    wait_until,
    wallet,
    write_config,
)
from tests.integration.pg_server import PrivateServer


class Appender:
    """Appends a round to a few streams every 20 ms, riding out the restarts.

    When an append fails, its commit may or may not have happened: the streams' versions
    are read back from the store before going on, so no event is counted on faith."""

    def __init__(self, store: EventStore, history: History) -> None:
        self.store = store
        self.history = history
        self.streams = {wallet(i) for i in range(1, 21)}
        self.failures = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="appender")

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            try:
                self.history.append_round(per_stream=1, only=self.streams)
            except (SQLAlchemyError, ConcurrencyError):
                self.failures += 1
                self._resync()

    def _resync(self) -> None:
        while not self.stop.is_set():
            try:
                for stream in self.streams:
                    self.history.versions[stream] = len(self.store.load_stream(stream))
                return
            except SQLAlchemyError:
                time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.postgres
def test_ingest_survives_database_restarts_without_losing_or_double_counting(
    private_pg: PrivateServer, tmp_path: Path
) -> None:
    store = SqlEventStore.open(private_pg.url)
    history = History(store, streams=200)
    history.append_round(per_stream=20, streams_per_tx=200)  # 4,000 events
    config = write_config(
        tmp_path / "config.yaml",
        private_pg.url,
        # audit takes 50 ms a batch: its 4,000-event backlog (2 s) spans both restarts, so
        # batches are in flight when the server goes (kpis alone is through it in 0.1 s)
        groups=[kpis_group(), recording_group("audit", "retry", delay_s=0.05)],
        ingest={"batch_size": 100},
        pool_size=4,
    )
    runtime = bootstrap(load_settings(config))
    appender = Appender(store, history)
    starts = [private_pg.started_at()]
    engine = runtime.engine

    with running(runtime):
        appender.thread.start()
        try:
            for mode in ("fast", "immediate"):
                time.sleep(0.7)  # mid-stream: the backlog and the live appends are in flight
                private_pg.restart(mode)
                starts.append(private_pg.started_at())
            time.sleep(0.7)
        finally:
            appender.stop.set()
            appender.thread.join(30)
        both = lambda: all(caught_up(engine, store, g) for g in ("kpis", "audit"))  # noqa: E731
        wait_until(both, 60, "both groups to catch up after the restarts")
        report = wait_until(
            lambda: (
                all(r["state"] == "caught_up" for r in group_report(runtime.store, engine))
                and group_report(runtime.store, engine)
            ),
            10,
            "the status to recover",
        )

    assert len(set(starts)) == 3, "the server should have restarted twice"
    assert appender.failures > 0, "the appends should have run into the restarts"
    assert {r["group"]: r["lag_events"] for r in report} == {"audit": 0, "kpis": 0}
    errors = [r["last_error"] or "" for r in report]  # kept after recovering, for the operator
    assert any(e.startswith("OperationalError") for e in errors), "no batch met a restart"
    events = all_positions(store.engine)
    assert len(events) > 4000
    assert projected_counts(store.engine) == direct_counts(store.engine)
    audited = Counter(position for position, _, _ in handled_rows(store.engine, "audit"))
    assert set(audited.values()) == {1}, "an event was applied twice"
    assert sorted(audited) == sorted(position for position, _, _ in events)
    store.close()
