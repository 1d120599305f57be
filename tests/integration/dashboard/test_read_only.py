"""The dashboard never writes: SQLite opened with mode=ro (and still reading while ingest
writes in WAL mode), PostgreSQL sessions with default_transaction_read_only."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dashboard.resources import context
from domain.eventstore.sql import SqlEventStore
from ingest.config_loader import load_settings
from ingest.metrics.query import MetricsQuery
from ingest.runtime import bootstrap
from tests.integration.dashboard.world import NOW, World, config_document, simulate, write_config

WRITES = [
    "INSERT INTO ingest_generations (group_name, active) VALUES ('intruder', 9)",
    "UPDATE events SET payload = payload WHERE position = 1",
    "DELETE FROM rm_metric_buckets",
    "CREATE TABLE intruder (x INTEGER)",
]


@pytest.mark.parametrize("statement", WRITES)
def test_the_dashboards_sqlite_connections_refuse_every_write(world: World, statement: str):
    ctx = context(str(world.config))
    for engine in {ctx.engine, ctx.store.engine}:
        with engine.connect() as conn, pytest.raises(DBAPIError, match="readonly"):
            conn.execute(text(statement))


def test_the_dashboard_reads_sqlite_while_ingest_writes_it_in_wal_mode(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    config = write_config(tmp_path / "config.yaml", config_document(url))
    simulate(url, now=NOW - timedelta(hours=1), history=timedelta(hours=2), backfill_rate=0.05)
    settings = load_settings(config)
    runtime = bootstrap(settings, only=["kpis"])
    worker = threading.Thread(target=runtime.run, name="ingest")
    worker.start()
    ctx = context(str(config))
    seen: list[object] = []
    errors: list[BaseException] = []

    def watch() -> None:
        while runtime.stop.is_set() is False:
            try:
                seen.append(ctx.query.value("deposit_count", "3h", NOW))
            except BaseException as exc:  # every failure is reported below
                errors.append(exc)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, name="dashboard")
    watcher.start()
    try:
        simulate(url, now=NOW, history=timedelta(hours=2), backfill_rate=0.05)  # one hour more
        store = SqlEventStore.open(url)
        try:
            writer = MetricsQuery(store.engine, settings.metrics, settings.business_timezone)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                expected = writer.value("deposit_count", "3h", NOW)
                if ctx.query.value("deposit_count", "3h", NOW) == expected and _caught_up(store):
                    break
                time.sleep(0.2)
            assert ctx.query.value("deposit_count", "3h", NOW) == expected
        finally:
            store.close()
    finally:
        runtime.stop.set()
        worker.join(timeout=30)
        watcher.join(timeout=30)
        runtime.close()
    assert errors == []
    assert len(set(seen)) > 1  # it saw the figure move while ingest wrote
    with ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _caught_up(store: SqlEventStore) -> bool:
    with store.engine.connect() as conn:
        position = conn.execute(
            text("SELECT position FROM ingest_checkpoints WHERE group_name = 'kpis'")
        ).scalar()
    return position == store.head().position


def test_the_dashboards_postgresql_sessions_are_read_only(pg_url: str, tmp_path: Path):
    store = SqlEventStore.open(pg_url)
    try:
        settings = load_settings(write_config(tmp_path / "config.yaml", config_document(pg_url)))
        bootstrap(settings, only=["kpis"]).close()  # creates the read model's tables
        ctx = context(str(tmp_path / "config.yaml"))
        assert ctx.query.value("deposits", "1h", NOW) == 0
        for statement in WRITES:
            with ctx.engine.connect() as conn, pytest.raises(DBAPIError, match="read-only"):
                conn.execute(text(statement))
        with ctx.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
    finally:
        store.close()
