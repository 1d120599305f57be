from __future__ import annotations

import pytest

from domain.eventstore.memory import InMemoryEventStore
from domain.platform import Platform, bootstrap
from tests.unit.domain.scenario import FakeClock, Scenario


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> InMemoryEventStore:
    return InMemoryEventStore(clock=clock)


@pytest.fixture
def platform(store: InMemoryEventStore, clock: FakeClock) -> Platform:
    return bootstrap(store, clock=clock)


@pytest.fixture
def scenario(store: InMemoryEventStore, platform: Platform, clock: FakeClock) -> Scenario:
    return Scenario(store, platform, clock)
