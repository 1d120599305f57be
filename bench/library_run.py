"""Running the ``eventsourcing`` baseline (``bench/library.py``): copy our events into the
library's store, then time its projection of them."""

from __future__ import annotations

import time
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.persistence import Tracking
from eventsourcing.projection import ProjectionRunner
from sqlalchemy.engine import make_url

from bench.databases import (
    BENCH_DATABASE,
    base_pg_url,
    connect,
    create_pg_schema,
    drop_pg_schema,
    pg_admin,
    remove_sqlite,
    sqlite_path,
)
from bench.library import (
    Ledger,
    LedgerEvents,
    MinuteTotals,
    PostgresMinuteTotals,
    SQLiteMinuteTotals,
)
from domain.eventstore import START, EventStore


def library_env(backend: str, name: str) -> dict[str, str]:
    if backend == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(sqlite_path(name))}  # fmt: skip
    url = make_url(base_pg_url())
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": BENCH_DATABASE,
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": name,
    }


def load_library_store(backend: str, name: str, source_url: str, limit: int) -> tuple[int, int]:
    """Copy the first ``limit`` events of our store into the library's; (events, last id)."""
    if backend == "sqlite":
        remove_sqlite(sqlite_path(name))
    else:
        create_pg_schema(name)
    app = LedgerEvents(env=library_env(backend, name))
    store = EventStore.from_url(source_url)
    copied, after, last_id = 0, START, 0
    try:
        while copied < limit:
            records = store.read_all(after, min(1000, limit - copied))
            if not records:
                break
            stored = [
                app.mapper.to_stored_event(
                    Ledger.Occurred(  # type: ignore[call-arg]
                        originator_id=uuid5(NAMESPACE_URL, r.stream_id),
                        originator_version=r.version,
                        timestamp=r.recorded_at,
                        event_type=r.event_type,
                        occurred_at=r.occurred_at,
                        payload=dict(r.payload),
                    )
                )
                for r in records
            ]
            ids = app.recorder.insert_events(stored)
            last_id = max(ids or [last_id])
            copied += len(records)
            after = records[-1].checkpoint
    finally:
        store.close()
        app.close()
    return copied, last_id


def reset_view(backend: str, name: str) -> None:
    if backend == "sqlite":
        with connect(f"sqlite:///{sqlite_path(name)}") as conn:
            conn.execute("DROP TABLE IF EXISTS minute_totals")
            conn.execute("DROP TABLE IF EXISTS tracking")
        return
    with pg_admin() as conn:  # the factory names tracking tables after the projection
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND "
            "(tablename LIKE '%%tracking' OR tablename = 'minute_totals')",
            (name,),
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'DROP TABLE "{name}"."{table}"')


def project(backend: str, name: str, last_id: int, expected: int) -> float:
    """Seconds for the library's runner to project every copied event."""
    reset_view(backend, name)
    if backend == "sqlite":
        return _pull_sqlite(name, last_id, expected)
    view = PostgresMinuteTotals
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=LedgerEvents,
        projection_class=MinuteTotals,
        view_class=view,
        env=library_env(backend, name),
    ) as runner:
        runner.wait(last_id, timeout=3600)
        seconds = time.perf_counter() - started
        counted = runner.projection.view.counted()
    if counted != expected:
        raise AssertionError(f"the library's projection counted {counted} of {expected} events")
    return seconds


def _pull_sqlite(name: str, last_id: int, expected: int) -> float:
    """The library's SQLite recorder has no subscriptions (``subscribe`` raises
    NotImplementedError), so ProjectionRunner cannot run on it. The same projection and view
    are driven the way its process applications pull: select the recorder's notifications
    after the view's tracking id, map each to its domain event, ``process_event`` it."""
    env = library_env("sqlite", name)
    started = time.perf_counter()
    app = LedgerEvents(env=env)
    view = SQLiteMinuteTotals(app.factory.datastore)  # type: ignore[attr-defined]
    view.create_table()
    projection = MinuteTotals(view=view)
    try:
        position = view.max_tracking_id(app.name) or 0
        while position < last_id:
            notifications = app.recorder.select_notifications(
                start=position + 1, limit=500, topics=MinuteTotals.topics
            )
            for notification in notifications:
                event = app.mapper.to_domain_event(notification)
                projection.process_event(event, Tracking(app.name, notification.id))
                position = notification.id
        seconds = time.perf_counter() - started
        counted = view.counted()
    finally:
        app.close()
    if counted != expected:
        raise AssertionError(f"the library's projection counted {counted} of {expected} events")
    return seconds


def drop_library_store(backend: str, name: str) -> None:
    if backend == "sqlite":
        remove_sqlite(sqlite_path(name))
    else:
        drop_pg_schema(name)
