"""Every store stamps ``recorded_at`` from the clock it was given (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from domain.eventstore import EventStore
from domain.eventstore.engine import make_engine
from domain.eventstore.memory import InMemoryEventStore
from domain.eventstore.schema import create_schema
from domain.eventstore.sql import SqlEventStore
from tests.clock import ManualClock
from tests.integration.eventstore.helpers import events, every_backend


def open_with_clock(store_url: str, clock: ManualClock) -> EventStore:
    if store_url.startswith("memory:"):
        return InMemoryEventStore(clock=clock)
    engine = make_engine(store_url)
    create_schema(engine)
    return SqlEventStore(engine, clock=clock)


@every_backend
def test_recorded_at_comes_from_the_injected_clock(store_url: str, clock: ManualClock):
    store = open_with_clock(store_url, clock)
    try:
        store.append("loan-L000001", 0, events(1))
        clock.advance(timedelta(hours=3, microseconds=7))
        store.append("loan-L000001", 1, events(1, start=1))
        first, second = store.load_stream("loan-L000001")
    finally:
        store.close()

    assert (
        first.recorded_at == first.occurred_at == clock.now() - timedelta(hours=3, microseconds=7)
    )
    assert second.recorded_at == clock.now()
