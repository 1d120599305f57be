"""The positions an append returns (and records for its command) are the stored ones.

SQLite takes a one-event append's position from the cursor's ``lastrowid`` and a multi-event
append's from ``RETURNING`` (``domain/eventstore/sql_write.py``); both must name the rows as
stored, also when the newest position was deleted (AUTOINCREMENT and PostgreSQL's sequence
never hand it out again, so the next position is not ``max(position) + 1``).
"""

from __future__ import annotations

import pytest

from domain.eventstore import EventStore, RecordedEvent, StreamAppend
from domain.eventstore.sql import SqlEventStore
from tests.integration.eventstore.helpers import events, positions, positions_in_table

pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)


def append(store: EventStore, stream_id: str, version: int, count: int, command_id: str):
    appends = [StreamAppend(stream_id, "wallet", version, events(count, start=version))]
    return store.append_streams(appends, command_id=command_id)


def stored(store: EventStore, records: list[RecordedEvent]) -> list[tuple[int, str, int]]:
    """``(position, stream_id, version)`` of the given records' rows, as in the table."""
    assert isinstance(store, SqlEventStore)
    wanted = positions(records)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT position, stream_id, version FROM events").all()
    return [(int(p), s, int(v)) for p, s, v in rows if int(p) in wanted]


def test_one_and_many_event_appends_return_and_record_their_stored_positions(store: EventStore):
    results = [
        append(store, "wallet-A", 0, 1, "c1"),
        append(store, "wallet-B", 0, 3, "c2"),
        append(store, "wallet-A", 1, 1, "c3"),
        append(store, "wallet-B", 3, 2, "c4"),
        append(store, "wallet-C", 0, 1, "c5"),
    ]
    for command, recorded in zip(("c1", "c2", "c3", "c4", "c5"), results, strict=True):
        assert stored(store, recorded) == [(r.position, r.stream_id, r.version) for r in recorded]
        assert store.command_result(command) == recorded
    assert sorted(p for recorded in results for p in positions(recorded)) == positions_in_table(
        store
    )


def test_a_one_event_append_after_the_newest_row_was_deleted_returns_its_real_position(
    store: EventStore,
):
    first = append(store, "wallet-A", 0, 2, "c1")
    assert isinstance(store, SqlEventStore)
    with store.engine.begin() as conn:  # e.g. an operator's repair: the newest row goes
        conn.exec_driver_sql(f"DELETE FROM events WHERE position = {first[-1].position}")
    survivor = first[0].position

    [one] = append(store, "wallet-B", 0, 1, "c2")

    assert one.position > first[-1].position  # never reused, so not max(position) + 1
    assert positions_in_table(store) == [survivor, one.position]
    assert stored(store, [one]) == [(one.position, "wallet-B", 1)]
    assert store.command_result("c2") == [one]
