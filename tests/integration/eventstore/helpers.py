"""Builders shared by the event store contract tests."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from domain.eventstore import Checkpoint, EventStore, NewEvent, RecordedEvent
from domain.eventstore.sql import SqlEventStore

# The contract runs on the in-memory fake too: it proves the fake is faithful.
every_backend = pytest.mark.parametrize(
    "store_url", ["memory", "sqlite", "postgres"], indirect=True
)


def new_event(
    n: int = 0,
    *,
    event_type: str = "FundsDeposited",
    occurred_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
    **payload: Any,
) -> NewEvent:
    body = {"amount": f"{100 + n}.50", "n": n, **payload}
    return NewEvent(event_type, body, occurred_at=occurred_at, metadata=metadata)


def events(count: int, start: int = 0) -> list[NewEvent]:
    return [new_event(start + i) for i in range(count)]


def positions_in_table(store: EventStore) -> list[int]:
    """Every committed row's position, straight from the table (no gap-safety filter)."""
    assert isinstance(store, SqlEventStore)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT position FROM events ORDER BY position")
        return [int(row[0]) for row in rows]


def positions(records: list[RecordedEvent]) -> list[int]:
    return [record.position for record in records]


def settle(store: EventStore, timeout: float = 10.0) -> None:
    """Wait until every committed event is readable through ``read_all``/``head``.

    On PostgreSQL a commit becomes readable once every older transaction in the cluster has
    ended (the gap-safety rule), so other test runs sharing the server can delay it; memory
    and SQLite stores are always settled. Returns after ``timeout`` regardless: the caller's
    assertions then report what is missing.
    """
    if not isinstance(store, SqlEventStore) or store.engine.dialect.name != "postgresql":
        return
    latest_sql = "SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1"
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql(latest_sql).first()
    if row is None:
        return
    latest = Checkpoint(int(row[0]), int(row[1]))
    deadline = time.monotonic() + timeout
    while store.head() < latest and time.monotonic() < deadline:
        time.sleep(0.01)
