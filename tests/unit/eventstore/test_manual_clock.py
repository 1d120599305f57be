"""The test clock every suite shares (tests/clock.py) behaves like a real UTC clock, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.clock import Clock
from domain.eventstore.memory import InMemoryEventStore
from tests.clock import ManualClock
from tests.integration.eventstore.helpers import events


def test_a_manual_clock_stands_still_until_advanced():
    clock = ManualClock(datetime(2024, 1, 1, tzinfo=UTC))

    assert clock.now() == clock() == datetime(2024, 1, 1, tzinfo=UTC)
    assert clock.advance(timedelta(minutes=90)) == datetime(2024, 1, 1, 1, 30, tzinfo=UTC)
    assert clock.now() == datetime(2024, 1, 1, 1, 30, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


def test_a_manual_clock_normalises_to_utc_and_refuses_naive_or_backward_times():
    clock = ManualClock(datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))))

    assert clock.now() == datetime(2024, 1, 1, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        ManualClock(datetime(2024, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="backward"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="backward"):
        clock.set(datetime(2023, 12, 31, tzinfo=UTC))
    assert clock.set(datetime(2024, 2, 1, tzinfo=UTC)) == clock.now()


def test_the_clock_fixture_is_a_manual_clock_usable_as_a_domain_clock(clock: ManualClock):
    as_domain_clock: Clock = clock
    before = as_domain_clock()
    clock.advance(timedelta(seconds=5))

    assert as_domain_clock() - before == timedelta(seconds=5)


def test_the_memory_store_stamps_recorded_at_from_its_clock(clock: ManualClock):
    store = InMemoryEventStore(clock=clock)
    first = store.append("loan-L000001", 0, events(1))
    clock.advance(timedelta(days=1))
    second = store.append("loan-L000001", 1, events(1, start=1))

    assert first[0].recorded_at == first[0].occurred_at == datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
    assert second[0].recorded_at - first[0].recorded_at == timedelta(days=1)
