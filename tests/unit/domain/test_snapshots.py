"""Snapshots: the same state as a full replay, fewer events read, and never trusted blindly."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from domain.aggregates import Loan, Wallet
from domain.commands import Deposit, Invest, RegisterUser, RequestWithdrawal, VerifyKyc
from domain.eventstore import Snapshot
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import Platform, bootstrap
from tests.unit.domain.scenario import (
    T0,
    EventCountingStore,
    FakeClock,
    Scenario,
    approved,
    deposited,
    user,
)

D = Decimal


class BrokenSnapshotStore(InMemoryEventStore):
    def save_snapshot(self, snapshot: Snapshot) -> None:
        raise OSError("disk full")


def busy_wallet(platform: Platform, deposits: int) -> None:
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    for n in range(deposits):
        platform.handle(Deposit(user_id="U1", amount=D(n + 1), channel="alipay"))
        if n % 4 == 0:
            platform.handle(RequestWithdrawal(user_id="U1", withdrawal_id=f"W{n}", amount=D(1)))


def test_a_snapshot_gives_the_same_state_as_a_full_replay_reading_fewer_events(
    clock: FakeClock,
) -> None:
    store = EventCountingStore(clock)
    busy_wallet(bootstrap(store, clock=clock, snapshot_interval=10), deposits=25)
    snapshot = store.load_snapshot("wallet-U1")
    assert snapshot is not None and snapshot.version == 30  # the stream holds 32 events

    store.events_loaded = 0
    with_snapshots = bootstrap(store, snapshot_interval=10).load(Wallet, "U1")
    assert store.events_loaded == 2

    store.events_loaded = 0
    replayed = bootstrap(store, snapshot_interval=0).load(Wallet, "U1")
    assert store.events_loaded == 32
    assert with_snapshots.as_dict() == replayed.as_dict()
    assert replayed.balance == D(sum(range(1, 26)))


def test_a_snapshot_of_another_state_version_is_ignored(clock: FakeClock) -> None:
    store = EventCountingStore(clock)
    busy_wallet(bootstrap(store, clock=clock, snapshot_interval=0), deposits=3)
    store.save_snapshot(Snapshot("wallet-U1", "wallet", 4, Wallet.state_version + 1, {}, T0))
    store.events_loaded = 0
    wallet = bootstrap(store, snapshot_interval=10).load(Wallet, "U1")
    assert store.events_loaded == 4
    assert wallet.balance == D(6)


def test_an_append_of_several_events_crossing_the_interval_takes_a_snapshot(
    scenario: Scenario, clock: FakeClock
) -> None:
    scenario.given(*user("U1"), deposited("U1", "2000"), *approved())  # loan at version 2
    platform = bootstrap(scenario.store, clock=clock, snapshot_interval=3)
    platform.handle(Invest(investor_id="U1", loan_id="L1", amount=D("1000")))  # -> version 4
    snapshot = scenario.store.load_snapshot("loan-L1")
    assert snapshot is not None and (snapshot.version, snapshot.taken_at) == (4, clock.now)
    assert (
        Loan.from_snapshot("L1", 4, snapshot.state).as_dict() == platform.load(Loan, "L1").as_dict()
    )


def test_every_aggregate_round_trips_through_its_snapshot(scenario: Scenario) -> None:
    scenario.given(*user("U1"), *user("U2", kyc=False), deposited("U1", "900"), *approved())
    platform = scenario.platform
    platform.handle(Invest(investor_id="U1", loan_id="L1", amount=D("100.10")))
    platform.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("0.90")))
    for cls, key in [(Wallet, "U1"), (Loan, "L1")]:
        live = platform.load(cls, key)
        restored = cls.from_snapshot(key, live.version, live.to_snapshot())
        assert restored.as_dict() == live.as_dict()


def test_a_failing_snapshot_is_logged_and_the_command_still_succeeds(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = BrokenSnapshotStore(clock=clock)
    platform = bootstrap(store, clock=clock, snapshot_interval=1)
    with caplog.at_level(logging.WARNING, logger="domain.repository"):
        [record] = platform.handle(RegisterUser(user_id="U1", channel="app"))
    assert record.event_type == "UserRegistered"
    assert "could not save snapshot of user-U1" in caplog.text
    platform.handle(VerifyKyc(user_id="U1"))
