"""Contract: appending and loading streams (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.eventstore import (
    START,
    ConcurrencyError,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)
from tests.integration.eventstore.helpers import (
    events,
    every_backend,
    new_event,
    positions,
    settle,
)

pytestmark = every_backend

PAYLOAD = {
    "loan_id": "L000001",
    "amount": "1234.50",
    "rate": "0.0435",
    "tags": ["consumer", "short-term"],
    "terms": {"months": 12, "grace": None, "secured": False},
    "note": "借款 ✓ 人民币",
    "big": 2**53 + 1,
}


def assert_utc_aware(moment: datetime) -> None:
    assert isinstance(moment, datetime)
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def test_appended_events_come_back_identical_from_load_stream_and_read_all(store: EventStore):
    occurred = datetime(2023, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    before = datetime.now(UTC)
    appended = store.append(
        "loan-L000001",
        0,
        [NewEvent("LoanApplied", PAYLOAD, schema_version=3, occurred_at=occurred)],
        {"correlation_id": "corr-1", "actor": "simulator"},
    )
    after = datetime.now(UTC)

    loaded = store.load_stream("loan-L000001")
    assert loaded == appended
    settle(store)
    assert store.read_all() == appended
    event = loaded[0]
    assert isinstance(event, RecordedEvent)
    assert (event.stream_id, event.stream_type, event.version) == ("loan-L000001", "loan", 1)
    assert (event.event_type, event.schema_version) == ("LoanApplied", 3)
    assert isinstance(event.position, int) and event.position >= 1
    assert isinstance(event.tx_id, int) and event.tx_id >= 1
    assert event.payload == PAYLOAD
    assert event.metadata == {"correlation_id": "corr-1", "actor": "simulator"}
    assert event.occurred_at == occurred  # the past is kept, to the microsecond
    assert_utc_aware(event.occurred_at)
    assert_utc_aware(event.recorded_at)
    assert before <= event.recorded_at <= after


def test_decimal_amounts_travel_as_exact_strings(store: EventStore):
    store.append("wallet-U000001", 0, [NewEvent("FundsDeposited", {"amount": "0.10"})])
    store.append("wallet-U000001", 1, [NewEvent("FundsDeposited", {"amount": "99999999.99"})])

    amounts = [event.payload["amount"] for event in store.load_stream("wallet-U000001")]
    assert amounts == ["0.10", "99999999.99"]
    assert sum(Decimal(amount) for amount in amounts) == Decimal("100000000.09")


def test_versions_start_at_one_and_stay_contiguous_and_positions_only_grow(store: EventStore):
    store.append("loan-L000001", 0, events(2))
    store.append("wallet-U000001", 0, events(1))
    store.append("loan-L000001", 2, events(3, start=2))
    store.append("loan-L000001", 5, events(1, start=5))

    loan = store.load_stream("loan-L000001")
    assert [e.version for e in loan] == [1, 2, 3, 4, 5, 6]
    assert [e.payload["n"] for e in loan] == [0, 1, 2, 3, 4, 5]
    settle(store)
    everything = positions(store.read_all())
    assert everything == sorted(set(everything)) and len(everything) == 7
    assert [e.version for e in store.load_stream("loan-L000001", after_version=4)] == [5, 6]
    assert store.load_stream("loan-L000404") == []


def test_stream_type_comes_from_the_stream_id_unless_given(store: EventStore):
    store.append("wallet-U000001", 0, events(1))
    store.append("legacy-X1", 0, events(1), stream_type="wallet")

    assert store.load_stream("wallet-U000001")[0].stream_type == "wallet"
    assert store.load_stream("legacy-X1")[0].stream_type == "wallet"
    with pytest.raises(ValueError, match="<stream_type>-<id>"):
        store.append("nodash", 0, events(1))


def test_per_event_metadata_is_merged_over_the_call_metadata(store: EventStore):
    store.append(
        "user-U000001",
        0,
        [new_event(0, metadata={"actor": "user-U000001", "causation_id": "e-9"}), new_event(1)],
        {"actor": "simulator", "correlation_id": "corr-7"},
    )

    first, second = store.load_stream("user-U000001")
    assert first.metadata == {
        "actor": "user-U000001",
        "causation_id": "e-9",
        "correlation_id": "corr-7",
    }
    assert second.metadata == {"actor": "simulator", "correlation_id": "corr-7"}


def test_occurred_at_defaults_to_recording_time_and_is_normalised_to_utc(store: EventStore):
    beijing = timezone(timedelta(hours=8))
    store.append(
        "user-U000001",
        0,
        [new_event(0), new_event(1, occurred_at=datetime(2024, 2, 1, 8, 0, tzinfo=beijing))],
    )

    now_event, beijing_event = store.load_stream("user-U000001")
    assert now_event.occurred_at == now_event.recorded_at
    assert beijing_event.occurred_at == datetime(2024, 2, 1, 0, 0, tzinfo=UTC)
    assert_utc_aware(beijing_event.occurred_at)


def test_a_naive_occurred_at_is_refused_and_nothing_is_appended(store: EventStore):
    naive = datetime(2024, 1, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"):
        store.append("user-U000001", 0, [new_event(0), new_event(1, occurred_at=naive)])

    assert store.load_stream("user-U000001") == []
    assert store.head() == START


def test_a_stale_expected_version_raises_and_appends_nothing(store: EventStore):
    store.append("loan-L000001", 0, events(2))
    settle(store)
    head = store.head()

    for stale in (0, 1, 3):
        with pytest.raises(ConcurrencyError) as caught:
            store.append("loan-L000001", stale, events(1, start=10))
        assert caught.value.stream_id == "loan-L000001"
        assert caught.value.expected_version == stale
        assert caught.value.actual_version == 2
    assert [e.version for e in store.load_stream("loan-L000001")] == [1, 2]
    assert store.head() == head


def test_a_conflict_on_the_second_stream_appends_nothing_to_the_first(store: EventStore):
    store.append("wallet-U000001", 0, events(1))
    settle(store)
    head = store.head()

    with pytest.raises(ConcurrencyError) as caught:
        store.append_streams(
            [
                StreamAppend("loan-L000001", "loan", 0, events(2)),
                StreamAppend("wallet-U000001", "wallet", 0, events(1, start=5)),
            ]
        )
    assert caught.value.stream_id == "wallet-U000001"
    assert store.load_stream("loan-L000001") == []
    assert len(store.read_all()) == 1
    assert store.head() == head


def test_a_multi_stream_append_is_one_transaction_in_the_global_order(store: EventStore):
    recorded = store.append_streams(
        [
            StreamAppend("loan-L000001", "loan", 0, events(2)),
            StreamAppend("wallet-U000001", "wallet", 0, events(1, start=2)),
        ],
        {"correlation_id": "disburse-1"},
    )

    assert [(e.stream_id, e.version) for e in recorded] == [
        ("loan-L000001", 1),
        ("loan-L000001", 2),
        ("wallet-U000001", 1),
    ]
    assert len({e.tx_id for e in recorded}) == 1
    settle(store)
    assert store.read_all() == recorded


def test_the_same_stream_twice_in_one_append_is_refused(store: EventStore):
    twice = [
        StreamAppend("loan-L000001", "loan", 0, events(1)),
        StreamAppend("loan-L000001", "loan", 1, events(1, start=1)),
    ]
    with pytest.raises(ValueError, match="same stream twice"):
        store.append_streams(twice)

    assert store.read_all() == []


def test_an_empty_append_records_nothing(store: EventStore):
    assert store.append("loan-L000001", 0, []) == []
    assert store.read_all() == []
    assert store.head() == START


def test_a_multi_stream_append_gives_positions_in_business_time_keeping_each_streams_order(
    store: EventStore,
):
    base = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    def at(minutes: int, n: int) -> NewEvent:
        return new_event(n, occurred_at=base + timedelta(minutes=minutes))

    recorded = store.append_streams([  # a bulk append of several commands, stream by stream
        StreamAppend("wallet-U000001", "wallet", 0, [at(0, 1), at(13, 2), at(20, 3)]),
        StreamAppend("wallet-U000002", "wallet", 0, [at(5, 4), at(13, 5)]),
        StreamAppend("loan-L000001", "loan", 0, [at(30, 7), at(2, 6)]),  # not in time order
    ])  # fmt: skip
    settle(store)
    stored = store.read_all()
    assert stored == sorted(recorded, key=lambda e: e.position)
    order = [(e.stream_id, e.version) for e in sorted(stored, key=lambda e: e.position)]
    # merged by occurred_at (a tie: the earlier stream first); a stream's own order is kept
    # even where its times go backwards (loan: 09:30 at version 1 before 09:02 at version 2)
    assert order == [
        ("wallet-U000001", 1), ("wallet-U000002", 1), ("wallet-U000001", 2),
        ("wallet-U000002", 2), ("wallet-U000001", 3), ("loan-L000001", 1),
        ("loan-L000001", 2),
    ]  # fmt: skip
