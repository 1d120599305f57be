from __future__ import annotations

from decimal import Decimal

import pytest

from domain.aggregates import Loan, Wallet
from domain.aggregates.errors import (
    InvalidCommandError,
    InvalidTransitionError,
    LoanClosedError,
    UnknownLoanError,
)
from domain.commands import DefaultLoan, MarkRepaymentOverdue, ReceiveRepayment
from domain.events import (
    DomainEvent,
    InvestmentReceived,
    LoanDefaulted,
    LoanDisbursed,
    LoanFunded,
    LoanSettled,
    RepaymentCredited,
    RepaymentOverdue,
    RepaymentReceived,
)
from tests.unit.domain.scenario import Scenario, approved

D = Decimal
FUNDED = [
    *approved(),  # 1000.00 over 3 months at 12%: 333.33 + 333.33 + 333.34
    InvestmentReceived("L1", "U1", D("600.00"), "consumer"),
    InvestmentReceived("L1", "U2", D("400.00"), "consumer"),
    LoanFunded("L1", D("1000.00"), 2, "consumer"),
]
DISBURSED = [*FUNDED, LoanDisbursed("L1", "B1", D("1000.00"), "consumer")]


def received(
    number: int, principal: str, interest: str, cleared: str = "0.00"
) -> RepaymentReceived:
    return RepaymentReceived("L1", number, D(principal), D(interest), "consumer", D(cleared))


def credited(user: str, number: int, principal: str, interest: str) -> RepaymentCredited:
    return RepaymentCredited(user, "L1", number, D(principal), D(interest))


def overdue(
    number: int, days: int, principal_due: str, outstanding: str, newly: str | None = None
) -> RepaymentOverdue:
    """A report; ``newly`` (default: all of principal_due) is what became overdue with it."""
    newly_overdue = D(principal_due if newly is None else newly)
    return RepaymentOverdue(
        "L1", number, days, D(principal_due), D(outstanding), "consumer", newly_overdue
    )


PAID_1_2 = [*DISBURSED, received(1, "333.33", "10.00"), received(2, "333.33", "6.67")]


def test_a_repayment_is_split_pro_rata_onto_the_investors_wallets(scenario: Scenario) -> None:
    # interest 1000.00 * 0.12 / 12 = 10.00; principal 333.33 -> 199.99 + 133.33 + 0.01 to U1
    scenario.given(*DISBURSED).when(ReceiveRepayment(loan_id="L1", installment=1)).then(
        received(1, "333.33", "10.00"),
        credited("U1", 1, "200.00", "6.00"),
        credited("U2", 1, "133.33", "4.00"),
    )
    loan = scenario.state(Loan, "L1")
    assert (loan.outstanding_principal, loan.installments_paid) == (D("666.67"), 1)
    assert scenario.state(Wallet, "U2").available == D("137.33")


def test_the_last_installment_takes_the_remainder_and_settles_the_loan(scenario: Scenario) -> None:
    # interest 333.34 * 0.01 = 3.3334 -> 3.33. Principal is split on the cumulative amount:
    # 666.66 repaid before -> U1 400.00, U2 266.66; 1000.00 after -> U1 600.00, U2 400.00,
    # so this installment gives U1 200.00 and U2 133.34: each gets back exactly what it put in.
    scenario.given(*PAID_1_2).when(ReceiveRepayment(loan_id="L1", installment=3)).then(
        received(3, "333.34", "3.33"),
        LoanSettled("L1", "consumer"),
        credited("U1", 3, "200.00", "2.00"),
        credited("U2", 3, "133.34", "1.33"),
    )
    loan = scenario.state(Loan, "L1")
    assert (loan.status, loan.outstanding_principal) == ("settled", D("0"))
    assert loan.figures["principal_repaid"] == D("1000.00")


def test_an_investor_whose_share_rounds_to_nothing_gets_no_credit(scenario: Scenario) -> None:
    history: list[DomainEvent] = [
        *approved(term_months=12),
        InvestmentReceived("L1", "U1", D("999.99"), "consumer"),
        InvestmentReceived("L1", "U2", D("0.01"), "consumer"),
        LoanFunded("L1", D("1000.00"), 2, "consumer"),
        LoanDisbursed("L1", "B1", D("1000.00"), "consumer"),
    ]
    scenario.given(*history).when(ReceiveRepayment(loan_id="L1", installment=1)).then(
        received(1, "83.33", "10.00"), credited("U1", 1, "83.33", "10.00")
    )


def test_repaying_before_disbursement_is_rejected(scenario: Scenario) -> None:
    scenario.given(*FUNDED).when(ReceiveRepayment(loan_id="L1", installment=1)).then_raises(
        InvalidTransitionError, match="loan L1 is funded; it cannot be repaid"
    )


@pytest.mark.parametrize("number", [0, 1, 3, 4, -1])
def test_repaying_any_but_the_next_installment_is_rejected(scenario: Scenario, number: int) -> None:
    scenario.given(*DISBURSED, received(1, "333.33", "10.00"))
    scenario.when(ReceiveRepayment(loan_id="L1", installment=number)).then_raises(
        InvalidTransitionError, match="the next unpaid installment is 2 of 3"
    )


@pytest.mark.parametrize(
    "command",
    [
        ReceiveRepayment(loan_id="L9", installment=1),
        MarkRepaymentOverdue(loan_id="L9", installment=1, days_past_due=5),
        DefaultLoan(loan_id="L9"),
    ],
    ids=["repay", "overdue", "default"],
)
def test_acting_on_an_unknown_loan_is_rejected(scenario: Scenario, command: object) -> None:
    scenario.given(*DISBURSED).when(command).then_raises(  # type: ignore[arg-type]
        UnknownLoanError, match="unknown loan 'L9'"
    )


CLOSED = {
    "settled": [*PAID_1_2, received(3, "333.34", "3.33"), LoanSettled("L1", "consumer")],
    "defaulted": [
        *DISBURSED,
        overdue(1, 61, "333.33", "1000.00"),
        LoanDefaulted("L1", D("1000.00"), "consumer"),
    ],
}


@pytest.mark.parametrize("status", sorted(CLOSED))
@pytest.mark.parametrize(
    "command",
    [
        ReceiveRepayment(loan_id="L1", installment=3),
        ReceiveRepayment(loan_id="L1", installment=1),
        MarkRepaymentOverdue(loan_id="L1", installment=3, days_past_due=90),
        DefaultLoan(loan_id="L1"),
    ],
    ids=["repay-next", "repay-first", "overdue", "default"],
)
def test_acting_on_a_settled_or_defaulted_loan_is_rejected(
    scenario: Scenario, status: str, command: object
) -> None:
    scenario.given(*CLOSED[status]).when(command).then_raises(  # type: ignore[arg-type]
        LoanClosedError, match=f"loan L1 is {status}"
    )


def test_the_next_installment_is_reported_overdue(scenario: Scenario) -> None:
    scenario.given(*DISBURSED, received(1, "333.33", "10.00")).when(
        MarkRepaymentOverdue(loan_id="L1", installment=2, days_past_due=5)
    ).then(overdue(2, 5, "333.33", "666.67"))


def test_overdue_days_must_grow(scenario: Scenario) -> None:
    scenario.given(*DISBURSED, overdue(1, 30, "333.33", "1000.00"))
    scenario.when(MarkRepaymentOverdue(loan_id="L1", installment=1, days_past_due=31)).then(
        overdue(1, 31, "333.33", "1000.00", newly="0.00")  # already overdue: nothing new
    )
    scenario.when(MarkRepaymentOverdue(loan_id="L1", installment=1, days_past_due=31)).then_raises(
        InvalidTransitionError, match="already reported 31 days past due; got 31"
    )


@pytest.mark.parametrize("days", [0, -3])
def test_non_positive_overdue_days_are_rejected(scenario: Scenario, days: int) -> None:
    scenario.given(*DISBURSED).when(
        MarkRepaymentOverdue(loan_id="L1", installment=1, days_past_due=days)
    ).then_raises(InvalidCommandError, match="days_past_due must be positive")


def test_non_integer_overdue_days_are_rejected(scenario: Scenario) -> None:
    scenario.given(*DISBURSED).when(
        MarkRepaymentOverdue(loan_id="L1", installment=1, days_past_due=1.5)  # type: ignore[arg-type]
    ).then_raises(InvalidCommandError, match="must be an integer")


@pytest.mark.parametrize("number", [2, 3])
def test_only_the_next_unpaid_installment_can_be_overdue(scenario: Scenario, number: int) -> None:
    scenario.given(*DISBURSED).when(
        MarkRepaymentOverdue(loan_id="L1", installment=number, days_past_due=10)
    ).then_raises(InvalidTransitionError, match="next unpaid installment is 1")


def test_an_undisbursed_loan_cannot_be_overdue(scenario: Scenario) -> None:
    scenario.given(*FUNDED).when(
        MarkRepaymentOverdue(loan_id="L1", installment=1, days_past_due=10)
    ).then_raises(InvalidTransitionError, match="is funded")


def test_a_late_installment_can_still_be_repaid_and_the_next_starts_on_time(
    scenario: Scenario,
) -> None:
    scenario.given(*DISBURSED, overdue(1, 45, "333.33", "1000.00"))
    scenario.when(ReceiveRepayment(loan_id="L1", installment=1)).then(
        received(1, "333.33", "10.00", cleared="333.33"),
        credited("U1", 1, "200.00", "6.00"),
        credited("U2", 1, "133.33", "4.00"),
    )
    assert scenario.state(Loan, "L1").days_past_due == 0
    scenario.when(DefaultLoan(loan_id="L1")).then_raises(InvalidTransitionError)


def test_a_loan_more_than_60_days_past_due_defaults_writing_off_its_principal(
    scenario: Scenario,
) -> None:
    scenario.given(*DISBURSED, received(1, "333.33", "10.00"), overdue(2, 61, "333.33", "666.67"))
    scenario.when(DefaultLoan(loan_id="L1")).then(
        LoanDefaulted("L1", D("666.67"), "consumer", overdue_principal=D("333.33"))
    )
    loan = scenario.state(Loan, "L1")
    assert (loan.status, loan.outstanding_principal) == ("defaulted", D("0.00"))
    assert loan.figures["written_off"] == D("666.67")


@pytest.mark.parametrize("history", [[], [overdue(1, 60, "333.33", "1000.00")]], ids=["0", "60"])
def test_defaulting_at_60_days_or_less_is_rejected(
    scenario: Scenario, history: list[DomainEvent]
) -> None:
    scenario.given(*DISBURSED, *history).when(DefaultLoan(loan_id="L1")).then_raises(
        InvalidTransitionError, match="more than 60 days past due"
    )


def test_defaulting_an_undisbursed_loan_is_rejected(scenario: Scenario) -> None:
    scenario.given(*FUNDED).when(DefaultLoan(loan_id="L1")).then_raises(
        InvalidTransitionError, match="loan L1 is funded; it cannot default"
    )


def test_over_a_loans_life_every_investor_gets_back_exactly_the_principal_invested(
    scenario: Scenario,
) -> None:
    investments = {"U1": D("333.33"), "U2": D("333.33"), "U3": D("333.34")}
    history: list[DomainEvent] = [
        *approved(term_months=7),
        *(InvestmentReceived("L1", who, amount, "consumer") for who, amount in investments.items()),
        LoanFunded("L1", D("1000.00"), 3, "consumer"),
        LoanDisbursed("L1", "B1", D("1000.00"), "consumer"),
    ]
    scenario.given(*history)
    returned = dict.fromkeys(investments, D("0.00"))
    for number in range(1, 8):
        for record in scenario.platform.handle(ReceiveRepayment(loan_id="L1", installment=number)):
            if record.event_type == "RepaymentCredited":
                returned[record.payload["user_id"]] += D(record.payload["principal"])
    assert returned == investments
