from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest

from domain.aggregates import Loan, User, Wallet
from domain.aggregates.errors import DuplicateUserError, InsufficientFundsError
from domain.commands import Command, Deposit, Invest, RegisterUser, RequestWithdrawal
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import Platform, bootstrap
from tests.unit.domain.scenario import FakeClock, Scenario, approved, deposited, user

D = Decimal


def test_every_event_carries_the_command_metadata_and_the_handling_time(
    scenario: Scenario, clock: FakeClock
) -> None:
    scenario.given(*user("U1"), deposited("U1", "100"), *approved())
    clock.advance(hours=3)
    command = Invest(
        investor_id="U1", loan_id="L1", amount=D("10"), actor="ops:alice", command_id="C-1"
    )
    recorded = scenario.platform.handle(command)
    assert len(recorded) == 2
    for record in recorded:
        assert record.metadata == {
            "command_id": "C-1",
            "correlation_id": "C-1",
            "causation_id": "C-1",
            "actor": "ops:alice",
            "command": "Invest",
        }
        assert record.occurred_at == clock.now


def test_a_given_correlation_id_is_kept(platform: Platform) -> None:
    [record] = platform.handle(RegisterUser(user_id="U1", channel="app", correlation_id="web-7"))
    assert record.metadata["correlation_id"] == "web-7"
    assert record.metadata["causation_id"] == record.metadata["command_id"]


def test_commands_get_distinct_ids_and_the_system_actor_by_default() -> None:
    first, second = RegisterUser(user_id="U1", channel="app"), RegisterUser("U1", "app")
    assert first.command_id != second.command_id
    assert (first.actor, first.correlation_id) == ("system", None)


def test_a_command_handled_twice_appends_once_and_returns_the_first_result(
    platform: Platform, store: InMemoryEventStore, clock: FakeClock
) -> None:
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    deposit = Deposit(user_id="U1", amount=D("50"), channel="alipay")
    first = platform.handle(deposit)
    head = store.head()
    clock.advance(minutes=5)
    again = platform.handle(deposit)
    assert again == first
    assert store.head() == head
    assert platform.load(Wallet, "U1").balance == D("50")


def test_a_multi_stream_command_handled_twice_appends_once(
    scenario: Scenario, store: InMemoryEventStore
) -> None:
    scenario.given(*user("U1"), deposited("U1", "100"), *approved())
    invest = Invest(investor_id="U1", loan_id="L1", amount=D("10"))
    first = scenario.platform.handle(invest)
    assert scenario.platform.handle(invest) == first
    assert scenario.state(Wallet, "U1").available == D("90")
    assert scenario.state(Loan, "L1").escrow == D("10")


def test_a_rejected_command_is_not_remembered_and_may_succeed_later(
    platform: Platform, store: InMemoryEventStore
) -> None:
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    withdraw = RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("10"))
    with pytest.raises(InsufficientFundsError):
        platform.handle(withdraw)
    assert store.command_result(withdraw.command_id) is None
    platform.handle(Deposit(user_id="U1", amount=D("10"), channel="alipay"))
    assert [r.event_type for r in platform.handle(withdraw)] == ["WithdrawalRequested"]


def test_a_duplicate_registration_with_a_new_command_id_is_rejected(platform: Platform) -> None:
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    with pytest.raises(DuplicateUserError):
        platform.handle(RegisterUser(user_id="U1", channel="app"))


def test_a_command_without_a_handler_is_refused(platform: Platform) -> None:
    @dataclass(frozen=True)
    class Teleport(Command):
        user_id: str

    with pytest.raises(TypeError, match="no handler for Teleport"):
        platform.handle(Teleport(user_id="U1"))


def test_a_naive_clock_is_refused_and_nothing_is_appended(store: InMemoryEventStore) -> None:
    platform = bootstrap(store, clock=lambda: datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        platform.handle(RegisterUser(user_id="U1", channel="app"))
    assert store.read_all() == []


def test_aggregates_load_by_class_by_stream_id_or_by_type_and_id(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "12.34"))
    platform = scenario.platform
    by_class = platform.load(Wallet, "U1")
    assert isinstance(by_class, Wallet)
    assert by_class.as_dict() == platform.load("wallet-U1").as_dict()
    assert by_class.as_dict() == platform.load("wallet", "U1").as_dict()
    assert isinstance(platform.load("user-U1"), User)
    assert platform.load(Loan, "L404").exists is False


def test_loading_an_unknown_stream_type_is_refused(platform: Platform) -> None:
    with pytest.raises(ValueError, match="no aggregate type"):
        platform.load("ledger-X1")
    with pytest.raises(TypeError, match="needs the aggregate id"):
        platform.load(Wallet)


def test_bad_settings_are_refused(store: InMemoryEventStore) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        bootstrap(store, max_retries=-1)
    with pytest.raises(ValueError, match="snapshot_interval"):
        bootstrap(store, snapshot_interval=-1)
