"""Given/when/then for the command side (Axon style), on the real in-memory event store.

    scenario.given(*user("U1"), deposited("U1", "100.00")).when(
        RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=Decimal("30.00"))
    ).then(WithdrawalRequested(user_id="U1", withdrawal_id="W1", amount=Decimal("30.00")))

``then`` checks the exact events, their streams and that they went in one transaction;
``then_raises`` checks the error and that NOTHING was appended or recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.aggregates import Aggregate
from domain.commands import Command
from domain.events import (
    DomainEvent,
    FundsDeposited,
    KycVerified,
    LoanApplied,
    LoanApproved,
    UserRegistered,
)
from domain.eventstore import EventStore, RecordedEvent
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import Platform
from domain.serialization import from_recorded, to_new_event

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """A UTC clock that only moves when told to."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class EventCountingStore(InMemoryEventStore):
    """An in-memory store that counts the events aggregates are loaded from."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.events_loaded = 0

    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        events = super().load_stream(stream_id, after_version)
        self.events_loaded += len(events)
        return events


def stream_of(event: DomainEvent) -> str:
    key = event.loan_id if event.stream_type == "loan" else event.user_id  # type: ignore[attr-defined]
    return f"{event.stream_type}-{key}"


class Scenario:
    def __init__(self, store: EventStore, platform: Platform, clock: FakeClock) -> None:
        self.store = store
        self.platform = platform
        self.clock = clock
        self.command: Command | None = None
        self.recorded: list[RecordedEvent] = []

    def given(self, *events: DomainEvent) -> Scenario:
        for event in events:
            stream_id = stream_of(event)
            version = len(self.store.load_stream(stream_id))
            self.store.append(stream_id, version, [to_new_event(event, self.clock())])
        return self

    def when(self, command: Command) -> Scenario:
        self.command = command
        return self

    def then(self, *expected: DomainEvent) -> Scenario:
        assert self.command is not None, "call when() first"
        before = self.store.head()
        self.recorded = self.platform.handle(self.command)
        assert [from_recorded(r) for r in self.recorded] == list(expected)
        assert [r.stream_id for r in self.recorded] == [stream_of(e) for e in expected]
        assert len({r.tx_id for r in self.recorded}) == 1, "one command, one transaction"
        assert self.store.read_all(before, limit=10_000) == self.recorded
        return self

    def then_raises(self, error: type[Exception], match: str | None = None) -> Scenario:
        assert self.command is not None, "call when() first"
        before = self.store.head()
        with pytest.raises(error, match=match):
            self.platform.handle(self.command)
        assert self.store.head() == before, "a rejected command must append nothing"
        assert self.store.command_result(self.command.command_id) is None
        return self

    def state(self, cls: type[Aggregate], aggregate_id: str) -> Any:
        return self.platform.load(cls, aggregate_id)


# --- givens: short histories ------------------------------------------------------------


def user(user_id: str, *, kyc: bool = True, channel: str = "app") -> list[DomainEvent]:
    events: list[DomainEvent] = [UserRegistered(user_id=user_id, channel=channel)]
    return [*events, KycVerified(user_id=user_id)] if kyc else events


def deposited(user_id: str, amount: str, channel: str = "alipay") -> FundsDeposited:
    return FundsDeposited(user_id=user_id, amount=Decimal(amount), currency="CNY", channel=channel)


def applied(
    loan_id: str = "L1",
    borrower_id: str = "B1",
    amount: str = "1000.00",
    term_months: int = 3,
    annual_rate: str = "0.12",
    product: str = "consumer",
) -> LoanApplied:
    return LoanApplied(
        loan_id, borrower_id, Decimal(amount), term_months, Decimal(annual_rate), product
    )


def approved(loan_id: str = "L1", amount: str = "1000.00", **terms: Any) -> list[DomainEvent]:
    return [
        applied(loan_id, amount=amount, **terms),
        LoanApproved(
            loan_id=loan_id, amount=Decimal(amount), product=terms.get("product", "consumer")
        ),
    ]
