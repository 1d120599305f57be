"""Contract: snapshots keep the newest state of a stream (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.eventstore import EventStore, Snapshot
from tests.integration.eventstore.helpers import every_backend

pytestmark = every_backend

TAKEN = datetime(2024, 3, 1, 10, 11, 12, 345678, tzinfo=UTC)


def snapshot(version: int, balance: str = "100.00") -> Snapshot:
    state = {"balance": balance, "loans": ["L000001"], "frozen": False, "limits": {"daily": 5}}
    return Snapshot("wallet-U000001", "wallet", version, 2, state, TAKEN + timedelta(hours=version))


def test_a_saved_snapshot_loads_back_equal(store: EventStore):
    store.save_snapshot(snapshot(5))

    loaded = store.load_snapshot("wallet-U000001")
    assert loaded == snapshot(5)
    assert loaded is not None and loaded.taken_at.utcoffset() == timedelta(0)


def test_a_stream_without_a_snapshot_loads_none(store: EventStore):
    store.save_snapshot(snapshot(5))

    assert store.load_snapshot("wallet-U000002") is None


def test_an_older_snapshot_never_replaces_a_newer_one(store: EventStore):
    store.save_snapshot(snapshot(5, balance="500.00"))
    store.save_snapshot(snapshot(3, balance="300.00"))
    assert store.load_snapshot("wallet-U000001") == snapshot(5, balance="500.00")

    store.save_snapshot(snapshot(7, balance="700.00"))
    assert store.load_snapshot("wallet-U000001") == snapshot(7, balance="700.00")


def test_a_snapshot_with_a_naive_time_is_refused(store: EventStore):
    naive = Snapshot("wallet-U000001", "wallet", 1, 1, {}, datetime(2024, 1, 1))  # noqa: DTZ001

    with pytest.raises(ValueError, match="naive"):
        store.save_snapshot(naive)
    assert store.load_snapshot("wallet-U000001") is None
