"""The write-through cache the simulator writes through: same state, never stale."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain import commands as c
from domain.aggregates import Wallet
from domain.aggregates.errors import DuplicateUserError
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import bootstrap
from domain.simulator.cache import CachingStore
from tests.unit.simulator.helpers import all_events, backfill


def test_aggregates_loaded_through_the_cache_equal_a_full_replay():
    store = InMemoryEventStore()
    backfill(store, hours=1)
    cached = bootstrap(CachingStore(store))
    plain = bootstrap(store, snapshot_interval=0)
    streams = list(dict.fromkeys(r.stream_id for r in all_events(store)))
    assert len(streams) > 200
    for stream_id in streams:
        cached.load(stream_id)  # fill the cache ...
    for stream_id in streams:  # ... and answer from it
        assert cached.load(stream_id).as_dict() == plain.load(stream_id).as_dict()


def test_a_write_by_another_process_is_caught_and_then_loaded_for_real():
    store = InMemoryEventStore()
    ours, theirs = bootstrap(CachingStore(store)), bootstrap(store)
    ours.handle(c.RegisterUser(user_id="U1", channel="app"))
    ours.handle(c.Deposit(user_id="U1", amount=Decimal("10.00"), channel="alipay"))
    theirs.handle(c.Deposit(user_id="U1", amount=Decimal("5.00"), channel="unionpay"))
    ours.handle(c.Deposit(user_id="U1", amount=Decimal("1.00"), channel="alipay"))  # retried
    assert ours.load(Wallet, "U1").balance == Decimal("16.00")
    assert bootstrap(store).load(Wallet, "U1").balance == Decimal("16.00")


def test_a_stream_created_elsewhere_after_the_read_back_is_not_taken_for_empty():
    store = InMemoryEventStore()
    cache = CachingStore(store)
    cache.know_streams(set())  # "nothing exists" ...
    bootstrap(store).handle(c.RegisterUser(user_id="U2", channel="web"))  # ... then it does
    with pytest.raises(DuplicateUserError):
        bootstrap(cache).handle(c.RegisterUser(user_id="U2", channel="app"))
    assert [r.payload["channel"] for r in all_events(store)] == ["web"]
