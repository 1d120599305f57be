"""Optimistic concurrency: conflicting appends re-run the command from a fresh load."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest

from domain.aggregates import Wallet
from domain.aggregates.errors import InsufficientFundsError
from domain.commands import Deposit, RegisterUser, RequestWithdrawal
from domain.events import DomainEvent, WithdrawalRequested
from domain.eventstore import ConcurrencyError, RecordedEvent, StreamAppend
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import bootstrap
from domain.serialization import to_new_event
from tests.unit.domain.scenario import FakeClock, deposited, stream_of, user

D = Decimal


class InterferingStore(InMemoryEventStore):
    """Before each of its first ``times`` appends, runs ``interfere`` (another writer)."""

    def __init__(self, clock: FakeClock, times: int) -> None:
        super().__init__(clock=clock)
        self.times, self.attempts = times, 0
        self.interfere: Callable[[], object] = lambda: None

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]:
        self.attempts += 1
        if self.times > 0:
            self.times -= 1
            self.interfere()
        return super().append_streams(appends, metadata, command_id=command_id)

    def append_raw(self, *events: DomainEvent) -> None:
        """Append bypassing the interference (another process writing directly)."""
        for event in events:
            stream_id = stream_of(event)
            append = StreamAppend(
                stream_id,
                event.stream_type,
                len(self.load_stream(stream_id)),
                [to_new_event(event)],
            )
            super().append_streams([append])


def rival_writer(store: InterferingStore, event: DomainEvent) -> InterferingStore:
    store.interfere = lambda: store.append_raw(event)
    return store


def test_a_conflicting_append_is_retried_from_a_fresh_load_and_succeeds(clock: FakeClock) -> None:
    store = rival_writer(InterferingStore(clock, times=1), deposited("U1", "100.00"))
    store.append_raw(*user("U1"), deposited("U1", "50.00"))
    platform = bootstrap(store, clock=clock)
    recorded = platform.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("40")))
    assert [(r.event_type, r.version) for r in recorded] == [("WithdrawalRequested", 3)]
    assert store.attempts == 2
    wallet = platform.load(Wallet, "U1")
    assert (wallet.balance, wallet.available) == (D("150.00"), D("110.00"))


def test_a_retry_re_checks_the_rules_against_the_concurrent_change(clock: FakeClock) -> None:
    rival = WithdrawalRequested(user_id="U1", withdrawal_id="W-rival", amount=D("70.00"))
    store = rival_writer(InterferingStore(clock, times=1), rival)
    store.append_raw(*user("U1"), deposited("U1", "100.00"))
    platform = bootstrap(store, clock=clock)
    command = RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("40"))
    with pytest.raises(InsufficientFundsError, match=r"only 30\.00 available"):
        platform.handle(command)
    assert platform.load(Wallet, "U1").held == D("70.00")  # only the rival's hold
    assert store.command_result(command.command_id) is None


@pytest.mark.parametrize("max_retries", [0, 3])
def test_a_command_that_always_conflicts_raises_after_max_retries(
    clock: FakeClock, max_retries: int
) -> None:
    store = rival_writer(InterferingStore(clock, times=10**6), deposited("U1", "1.00"))
    store.append_raw(*user("U1"))
    platform = bootstrap(store, clock=clock, max_retries=max_retries)
    command = Deposit(user_id="U1", amount=D("5.00"), channel="alipay")
    with pytest.raises(ConcurrencyError, match="wallet-U1"):
        platform.handle(command)
    assert store.attempts == max_retries + 1
    assert store.command_result(command.command_id) is None
    assert platform.load(Wallet, "U1").balance == D("1.00") * (max_retries + 1)


@pytest.mark.parametrize("max_retries", [0, 5])
def test_a_twin_that_handles_the_same_command_first_wins(
    clock: FakeClock, max_retries: int
) -> None:
    store = InterferingStore(clock, times=1)
    command = RegisterUser(user_id="U1", channel="app")
    twin = bootstrap(store, clock=clock)  # e.g. another process retrying the same request
    store.interfere = lambda: twin.handle(command)
    result = bootstrap(store, clock=clock, max_retries=max_retries).handle(command)
    assert store.attempts == 2  # ours (conflicts) and the twin's; the retry finds its result
    assert [r.event_type for r in store.read_all()] == ["UserRegistered"]
    assert result == store.command_result(command.command_id)


def test_a_command_id_recorded_meanwhile_on_other_streams_returns_that_result(
    clock: FakeClock,
) -> None:
    store = InterferingStore(clock, times=1)
    command = RegisterUser(user_id="U1", channel="app")

    def other_writer() -> None:
        append = StreamAppend("user-U2", "user", 0, [to_new_event(user("U2")[0])])
        InMemoryEventStore.append_streams(store, [append], command_id=command.command_id)

    store.interfere = other_writer
    result = bootstrap(store, clock=clock).handle(command)
    assert [r.stream_id for r in result] == ["user-U2"]
    assert [r.stream_id for r in store.read_all()] == ["user-U2"]
