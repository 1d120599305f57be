"""platform.batch(): many commands, one transaction, one identity map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest

from domain.aggregates import Loan, Wallet
from domain.aggregates.errors import DomainError, InsufficientFundsError, UnknownUserError
from domain.commands import (
    ApplyForLoan,
    ApproveLoan,
    Deposit,
    Invest,
    RegisterUser,
    RequestWithdrawal,
    VerifyKyc,
)
from domain.events import FundsDeposited
from domain.eventstore import RecordedEvent, StreamAppend
from domain.eventstore.memory import InMemoryEventStore
from domain.platform import bootstrap
from tests.unit.domain.scenario import FakeClock

D = Decimal


class CountingStore(InMemoryEventStore):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.append_calls = 0
        self.loads: dict[str, int] = {}

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]:
        self.append_calls += 1
        return super().append_streams(appends, metadata, command_id=command_id)

    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        self.loads[stream_id] = self.loads.get(stream_id, 0) + 1
        return super().load_stream(stream_id, after_version)


@pytest.fixture
def counting(clock: FakeClock) -> CountingStore:
    return CountingStore(clock)


def onboarding(user_id: str) -> list[Any]:
    return [
        RegisterUser(user_id=user_id, channel="app", command_id=f"reg-{user_id}"),
        VerifyKyc(user_id=user_id, command_id=f"kyc-{user_id}"),
        Deposit(user_id=user_id, amount=D("500"), channel="alipay", command_id=f"dep-{user_id}"),
    ]


def test_a_batch_appends_everything_in_one_call_and_one_transaction(
    counting: CountingStore, clock: FakeClock
) -> None:
    platform = bootstrap(counting, clock=clock)
    with platform.batch() as batch:
        for command in [*onboarding("U1"), *onboarding("B1")]:
            batch.handle(command)
        batch.handle(ApplyForLoan("L1", "B1", D("300"), 3, D("0.1"), "car", command_id="apply"))
        batch.handle(ApproveLoan(loan_id="L1", command_id="approve"))
        events = batch.handle(
            Invest(investor_id="U1", loan_id="L1", amount=D("300"), command_id="inv")
        )
        assert counting.append_calls == 0, "nothing is appended before the block ends"
    assert [type(e).__name__ for e in events] == [
        "FundsInvested",
        "InvestmentReceived",
        "LoanFunded",
    ]
    assert counting.append_calls == 1
    recorded = counting.read_all()
    assert recorded == batch.recorded and len(recorded) == 11
    assert len({r.tx_id for r in recorded}) == 1
    assert [r.event_type for r in counting.command_result("inv") or []] == [
        "FundsInvested",
        "InvestmentReceived",
        "LoanFunded",
    ]
    assert {r.metadata["command"] for r in counting.command_result("dep-U1") or []} == {"Deposit"}
    assert platform.load(Wallet, "U1").available == D("200")
    assert platform.load(Loan, "L1").status == "funded"


def test_a_batch_loads_each_aggregate_once_and_sees_its_own_staged_events(
    counting: CountingStore, clock: FakeClock
) -> None:
    platform = bootstrap(counting, clock=clock)
    with platform.batch() as batch:
        batch.handle(RegisterUser(user_id="U1", channel="web"))
        for _ in range(5):
            batch.handle(Deposit(user_id="U1", amount=D("10"), channel="unionpay"))
        batch.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("50")))
    assert counting.loads == {"user-U1": 1, "wallet-U1": 1}
    assert platform.load(Wallet, "U1").held == D("50")


def test_a_rejected_command_in_a_batch_stages_nothing_and_the_batch_goes_on(
    store: InMemoryEventStore, clock: FakeClock
) -> None:
    platform = bootstrap(store, clock=clock)
    with platform.batch() as batch:
        for command in [*onboarding("U1"), *onboarding("B1")]:
            batch.handle(command)
        batch.handle(ApplyForLoan("L1", "B1", D("300"), 3, D("0.1"), "car"))
        batch.handle(ApproveLoan(loan_id="L1"))
        too_much = Invest(investor_id="U1", loan_id="L1", amount=D("300.00"))
        batch.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("250")))
        with pytest.raises(InsufficientFundsError):
            batch.handle(too_much)  # loan.invest passed, wallet.invest refused: no trace
        with pytest.raises(UnknownUserError):
            batch.handle(Deposit(user_id="U9", amount=D("1"), channel="alipay"))
        batch.handle(Invest(investor_id="U1", loan_id="L1", amount=D("250")))
    loan = platform.load(Loan, "L1")
    assert (loan.escrow, loan.remaining, loan.status) == (D("250"), D("50"), "approved")
    assert platform.load(Wallet, "U1").available == D("0")
    assert store.command_result(too_much.command_id) is None
    assert [r.event_type for r in store.read_all() if r.stream_id == "loan-L1"] == [
        "LoanApplied",
        "LoanApproved",
        "InvestmentReceived",
    ]


def test_an_exception_in_the_block_appends_nothing(store: InMemoryEventStore) -> None:
    platform = bootstrap(store)
    with pytest.raises(DomainError), platform.batch() as batch:
        for command in onboarding("U1"):
            batch.handle(command)
        batch.handle(Deposit(user_id="U9", amount=D("1"), channel="alipay"))
    assert store.read_all() == []


def test_an_empty_batch_appends_nothing(counting: CountingStore) -> None:
    with bootstrap(counting).batch():
        pass
    assert counting.append_calls == 0


def test_commands_already_handled_are_skipped_so_a_backfill_can_be_rerun(
    counting: CountingStore,
) -> None:
    platform = bootstrap(counting)
    commands = onboarding("U1")
    with platform.batch() as first:
        for command in commands:
            first.handle(command)
    head = counting.head()
    with platform.batch() as again:
        replayed = [again.handle(command) for command in commands]
        again.handle(commands[2])  # the same id twice within a batch: staged once
    assert counting.head() == head
    assert replayed[2] == [FundsDeposited("U1", D("500.00"), "CNY", "alipay")]
    assert platform.load(Wallet, "U1").balance == D("500")


def test_a_repeated_command_id_within_a_batch_is_staged_once(store: InMemoryEventStore) -> None:
    platform = bootstrap(store)
    deposit = Deposit(user_id="U1", amount=D("7"), channel="alipay")
    with platform.batch(skip_handled=False) as batch:
        batch.handle(RegisterUser(user_id="U1", channel="app"))
        first = batch.handle(deposit)
        assert batch.handle(deposit) == first
    assert platform.load(Wallet, "U1").balance == D("7")
