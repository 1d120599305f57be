"""Contract: command ids make handling idempotent (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.eventstore import DuplicateCommandError, EventStore, StreamAppend
from tests.integration.eventstore.helpers import events, every_backend, new_event, settle

pytestmark = every_backend


def loan_append(expected: int = 0, count: int = 1, start: int = 0) -> list[StreamAppend]:
    return [StreamAppend("loan-L000001", "loan", expected, events(count, start))]


def test_a_repeated_command_id_is_refused_and_the_first_result_stands(store: EventStore):
    first = store.append_streams(loan_append(count=2), {"actor": "a"}, command_id="cmd-1")
    settle(store)
    head = store.head()

    with pytest.raises(DuplicateCommandError) as caught:
        store.append_streams(
            [StreamAppend("wallet-U000001", "wallet", 0, events(1))], command_id="cmd-1"
        )
    assert caught.value.command_id == "cmd-1"
    assert store.load_stream("wallet-U000001") == []
    assert store.head() == head
    assert store.command_result("cmd-1") == first
    assert first[0].metadata == {"actor": "a", "command_id": "cmd-1"}


def test_a_command_never_handled_has_no_result(store: EventStore):
    store.append_streams(loan_append(), command_id="cmd-1")

    assert store.command_result("cmd-2") is None


def test_a_command_that_appended_nothing_is_still_remembered(store: EventStore):
    assert store.append_streams([], command_id="cmd-noop") == []

    assert store.command_result("cmd-noop") == []
    with pytest.raises(DuplicateCommandError):
        store.append_streams(loan_append(), command_id="cmd-noop")
    assert store.read_all() == []


def test_a_command_id_in_the_call_metadata_counts_like_the_keyword(store: EventStore):
    first = store.append("loan-L000001", 0, events(1), {"command_id": "cmd-m"})

    with pytest.raises(DuplicateCommandError):
        store.append("loan-L000001", 1, events(1, start=1), {"command_id": "cmd-m"})
    assert store.command_result("cmd-m") == first
    assert len(store.load_stream("loan-L000001")) == 1


def test_a_batch_records_each_command_of_its_events_separately(store: EventStore):
    batch = store.append_streams(
        [
            StreamAppend(
                "wallet-U000001",
                "wallet",
                0,
                [
                    new_event(0, metadata={"command_id": "c-a"}),
                    new_event(1, metadata={"command_id": "c-b"}),
                    new_event(2, metadata={"command_id": "c-a"}),
                ],
            ),
            StreamAppend(
                "wallet-U000002", "wallet", 0, [new_event(3, metadata={"command_id": "c-b"})]
            ),
        ],
        {"batch": "b-1"},
    )

    assert store.command_result("c-a") == [batch[0], batch[2]]
    assert store.command_result("c-b") == [batch[1], batch[3]]


def test_a_batch_holding_one_handled_command_appends_nothing_at_all(store: EventStore):
    store.append("wallet-U000001", 0, [new_event(0, metadata={"command_id": "c-b"})])
    settle(store)
    head = store.head()

    retry = [
        StreamAppend(
            "wallet-U000002",
            "wallet",
            0,
            [
                new_event(1, metadata={"command_id": "c-new"}),
                new_event(2, metadata={"command_id": "c-b"}),
            ],
        )
    ]
    with pytest.raises(DuplicateCommandError) as caught:
        store.append_streams(retry)
    assert caught.value.command_id == "c-b"
    assert store.command_result("c-new") is None
    assert store.load_stream("wallet-U000002") == []
    assert store.head() == head
