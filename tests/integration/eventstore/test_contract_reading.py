"""Contract: reading the global log and waiting for it to grow (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest

from domain.eventstore import START, EventStore, RecordedEvent, StreamAppend
from tests.integration.eventstore.helpers import events, every_backend, settle

pytestmark = every_backend


def fill(store: EventStore) -> list[RecordedEvent]:
    """23 events in 7 transactions over 3 streams, some transactions holding many events."""
    store.append("loan-L000001", 0, events(3))
    store.append("wallet-U000001", 0, events(1, start=3))
    store.append_streams(
        [
            StreamAppend("loan-L000001", "loan", 3, events(2, start=4)),
            StreamAppend("wallet-U000001", "wallet", 1, events(4, start=6)),
        ]
    )
    store.append("user-U000001", 0, events(5, start=10))
    store.append("loan-L000001", 5, events(1, start=15))
    store.append("user-U000001", 5, events(6, start=16))
    store.append("wallet-U000001", 5, events(1, start=22))
    settle(store)
    return store.read_all(START, limit=1000)


def test_read_all_returns_every_event_once_in_append_order(store: EventStore):
    everything = fill(store)

    assert [e.payload["n"] for e in everything] == list(range(23))
    checkpoints = [e.checkpoint for e in everything]
    assert checkpoints == sorted(set(checkpoints))
    assert [e.position for e in everything] == sorted({e.position for e in everything})


def test_paging_with_a_limit_reads_the_same_log_without_overlap(store: EventStore):
    everything = fill(store)

    pages: list[list[RecordedEvent]] = []
    checkpoint = START
    while page := store.read_all(checkpoint, limit=4):
        pages.append(page)
        checkpoint = page[-1].checkpoint
    assert [len(page) for page in pages] == [4, 4, 4, 4, 4, 3]
    assert [event for page in pages for event in page] == everything


def test_reading_resumes_exactly_after_any_checkpoint(store: EventStore):
    everything = fill(store)

    for index, event in enumerate(everything):
        assert store.read_all(event.checkpoint, limit=1000) == everything[index + 1 :]
        assert store.read_all(event.checkpoint, limit=2) == everything[index + 1 : index + 3]


def test_head_is_the_checkpoint_of_the_last_event_read(store: EventStore):
    assert store.head() == START
    assert store.read_all() == []

    everything = fill(store)
    assert store.head() == everything[-1].checkpoint
    assert store.read_all(store.head()) == []


def appending_later(store: EventStore, delay: float) -> threading.Thread:
    def append() -> None:
        time.sleep(delay)
        store.append("wallet-U000009", 0, events(1))

    thread = threading.Thread(target=append)
    thread.start()
    return thread


def test_wait_for_new_wakes_quickly_after_another_thread_appends(store: EventStore):
    store.append("loan-L000001", 0, events(1))
    settle(store)
    checkpoint = store.head()
    store.wait_for_new(0.01, after=checkpoint)  # a first call may set things up (LISTEN)

    writer = appending_later(store, 0.2)
    started = time.monotonic()
    woke = store.wait_for_new(10.0, after=checkpoint)
    elapsed = time.monotonic() - started
    writer.join()

    assert woke is True
    assert 0.15 <= elapsed < 2.0
    assert [e.stream_id for e in store.read_all(checkpoint)] == ["wallet-U000009"]


@pytest.mark.parametrize("with_after", [True, False], ids=["after-head", "no-after"])
def test_wait_for_new_waits_out_its_timeout_when_nothing_is_appended(
    store: EventStore, with_after: bool
):
    store.append("loan-L000001", 0, events(1))
    settle(store)
    checkpoint = store.head()

    for _ in range(2):  # the first call on PostgreSQL also starts listening: no shortcut then
        started = time.monotonic()
        woke = store.wait_for_new(0.3, after=checkpoint if with_after else None)
        elapsed = time.monotonic() - started
        assert woke is False
        assert 0.295 <= elapsed < 1.0


def test_wait_for_new_returns_at_once_when_the_head_is_already_past_after(store: EventStore):
    first = store.append("loan-L000001", 0, events(1))
    store.append("loan-L000001", 1, events(1, start=1))
    settle(store)

    started = time.monotonic()
    assert store.wait_for_new(5.0, after=first[0].checkpoint) is True
    assert store.wait_for_new(5.0, after=START) is True
    assert time.monotonic() - started < 0.5
