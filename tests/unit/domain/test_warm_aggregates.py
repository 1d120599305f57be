"""Aggregates kept between commands: same results, fewer events read, never stale."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.aggregates import Wallet
from domain.commands import Deposit, RegisterUser, RequestWithdrawal, VerifyKyc
from domain.errors import DomainError
from domain.eventstore import ConcurrencyError
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import bootstrap
from tests.unit.domain.scenario import EventCountingStore, FakeClock

D = Decimal


def funded(store: InMemoryEventStore, clock: FakeClock, **options: int) -> None:
    platform = bootstrap(store, clock=clock, snapshot_interval=0, **options)
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    platform.handle(VerifyKyc(user_id="U1"))
    platform.handle(Deposit(user_id="U1", amount=D("100.00"), channel="alipay"))


def test_a_committed_aggregate_is_reused_reading_only_its_last_event(clock: FakeClock) -> None:
    store = EventCountingStore(clock)
    funded(store, clock)
    platform = bootstrap(store, clock=clock, snapshot_interval=0)
    platform.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))  # cold
    store.events_loaded = 0
    platform.handle(Deposit(user_id="U1", amount=D("2.00"), channel="alipay"))
    assert store.events_loaded == 2  # user and wallet: the event at the kept version, as proof
    wallet = platform.load(Wallet, "U1")
    assert (wallet.version, wallet.balance) == (3, D("103.00"))
    assert wallet.as_dict() == bootstrap(store, warm_capacity=0).load(Wallet, "U1").as_dict()


def test_events_appended_by_another_writer_are_applied_to_a_kept_aggregate(
    clock: FakeClock,
) -> None:
    store = EventCountingStore(clock)
    funded(store, clock)
    mine, other = bootstrap(store, clock=clock), bootstrap(store, clock=clock)
    mine.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))  # kept at v2
    other.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("101.00")))
    with pytest.raises(DomainError, match="available"):  # sees the other writer's hold
        mine.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W2", amount=D("0.01")))
    assert mine.load(Wallet, "U1").held == D("101.00")


def test_a_kept_aggregate_the_stream_does_not_prove_is_dropped_and_reloaded(
    clock: FakeClock,
) -> None:
    store = EventCountingStore(clock)
    funded(store, clock)
    platform = bootstrap(store, clock=clock)
    platform.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))
    fresh = InMemoryEventStore(clock=clock)  # the same platform over a store without it
    platform.store = fresh
    platform.repository.store = fresh
    funded(fresh, clock)
    wallet = platform.load(Wallet, "U1")
    assert (wallet.version, wallet.balance) == (1, D("100.00"))


def test_a_failed_attempt_keeps_nothing(clock: FakeClock) -> None:
    class Refusing(InMemoryEventStore):
        def append_streams(self, appends, metadata=None, *, command_id=None):  # type: ignore[no-untyped-def]
            raise ConcurrencyError(appends[0].stream_id, appends[0].expected_version, 99)

    store = Refusing(clock=clock)
    platform = bootstrap(store, clock=clock, max_retries=0)
    with pytest.raises(ConcurrencyError):
        platform.handle(RegisterUser(user_id="U1", channel="app"))
    assert not platform.repository._warm


def test_the_oldest_kept_aggregates_go_beyond_capacity(clock: FakeClock) -> None:
    store = InMemoryEventStore(clock=clock)
    platform = bootstrap(store, clock=clock, warm_capacity=2)
    for user in ("U1", "U2", "U3"):
        platform.handle(RegisterUser(user_id=user, channel="app"))
    assert list(platform.repository._warm) == ["user-U2", "user-U3"]
