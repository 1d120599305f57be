from __future__ import annotations

from decimal import Decimal

import pytest

from domain.aggregates import Loan
from domain.aggregates.errors import (
    DuplicateLoanError,
    InvalidAmountError,
    InvalidCommandError,
    InvalidTransitionError,
    LoanClosedError,
    UnknownLoanError,
    UnknownUserError,
)
from domain.commands import ApplyForLoan, ApproveLoan, DisburseLoan, RejectLoan
from domain.events import (
    DomainEvent,
    InvestmentReceived,
    LoanApplied,
    LoanApproved,
    LoanDefaulted,
    LoanDisbursed,
    LoanFunded,
    LoanRejected,
    LoanSettled,
)
from tests.unit.domain.scenario import Scenario, applied, approved, user

D = Decimal


def apply(**overrides: object) -> ApplyForLoan:
    fields: dict[str, object] = {
        "loan_id": "L1",
        "borrower_id": "B1",
        "amount": D("1000.00"),
        "term_months": 12,
        "annual_rate": D("0.085"),
        "product": "consumer",
    }
    return ApplyForLoan(**{**fields, **overrides})  # type: ignore[arg-type]


FUNDED = [
    *approved(),
    InvestmentReceived("L1", "U1", D("1000.00"), "consumer"),
    LoanFunded("L1", D("1000.00"), 1, "consumer"),
]


@pytest.mark.parametrize("product", ["consumer", "business", "car"])
def test_a_registered_borrower_applies_for_a_loan(scenario: Scenario, product: str) -> None:
    scenario.given(*user("B1", kyc=False)).when(apply(product=product)).then(
        LoanApplied("L1", "B1", D("1000.00"), 12, D("0.085"), product)
    )
    assert scenario.state(Loan, "L1").status == "applied"


@pytest.mark.parametrize(("term", "rate"), [(1, "0.01"), (36, "0.36"), (6, "0.0001")])
def test_terms_at_the_limits_are_accepted(scenario: Scenario, term: int, rate: str) -> None:
    scenario.given(*user("B1")).when(apply(term_months=term, annual_rate=D(rate))).then(
        LoanApplied("L1", "B1", D("1000.00"), term, D(rate), "consumer")
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"product": "mortgage"}, "loan product must be one of consumer, business, car"),
        ({"term_months": 0}, "term_months must be between 1 and 36"),
        ({"term_months": 37}, "term_months must be between 1 and 36"),
        ({"term_months": 12.0}, "term_months must be an integer"),
        ({"term_months": True}, "term_months must be an integer"),
        ({"annual_rate": D("0")}, r"annual_rate must be in \(0, 0.36\]"),
        ({"annual_rate": D("-0.1")}, r"annual_rate must be in \(0, 0.36\]"),
        ({"annual_rate": D("0.3601")}, r"annual_rate must be in \(0, 0.36\]"),
        ({"annual_rate": 0.1}, "annual_rate must be a finite Decimal"),
        ({"annual_rate": D("Infinity")}, "annual_rate must be a finite Decimal"),
        ({"amount": D("0.11"), "term_months": 12}, "too small for 12 monthly installments"),
        ({"loan_id": "L 1"}, "loan_id must be a non-empty string"),
    ],
)
def test_a_loan_with_bad_terms_is_rejected(
    scenario: Scenario, overrides: dict[str, object], message: str
) -> None:
    scenario.given(*user("B1")).when(apply(**overrides)).then_raises(
        InvalidCommandError, match=message
    )


@pytest.mark.parametrize("amount", [D("0"), D("-5"), D("100.005"), 100.0])
def test_a_loan_of_a_bad_amount_is_rejected(scenario: Scenario, amount: object) -> None:
    scenario.given(*user("B1")).when(apply(amount=amount)).then_raises(InvalidAmountError)


def test_a_loan_for_an_unknown_borrower_is_rejected(scenario: Scenario) -> None:
    scenario.when(apply(borrower_id="B9")).then_raises(UnknownUserError, match="'B9'")


def test_a_duplicate_loan_id_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("B1"), *user("B2"), applied("L1")).when(apply(borrower_id="B2"))
    scenario.then_raises(DuplicateLoanError, match="loan L1 already exists")


def test_an_applied_loan_is_approved(scenario: Scenario) -> None:
    scenario.given(applied()).when(ApproveLoan(loan_id="L1")).then(
        LoanApproved(loan_id="L1", amount=D("1000.00"), product="consumer")
    )


def test_an_applied_loan_is_rejected_with_a_reason(scenario: Scenario) -> None:
    scenario.given(applied()).when(RejectLoan(loan_id="L1", reason="income too low")).then(
        LoanRejected(loan_id="L1", reason="income too low", product="consumer")
    )


def test_approving_twice_is_rejected(scenario: Scenario) -> None:
    scenario.given(*approved()).when(ApproveLoan(loan_id="L1")).then_raises(
        InvalidTransitionError, match="loan L1 is approved; it cannot approve"
    )


def test_rejecting_an_approved_loan_is_rejected(scenario: Scenario) -> None:
    scenario.given(*approved()).when(RejectLoan(loan_id="L1", reason="late")).then_raises(
        InvalidTransitionError, match="it cannot reject"
    )


@pytest.mark.parametrize(
    "command",
    [ApproveLoan(loan_id="L9"), RejectLoan(loan_id="L9", reason="x"), DisburseLoan(loan_id="L9")],
)
def test_acting_on_an_unknown_loan_is_rejected(scenario: Scenario, command: object) -> None:
    scenario.given(applied()).when(command).then_raises(UnknownLoanError, match="'L9'")  # type: ignore[arg-type]


@pytest.mark.parametrize("history", [[*approved()], [applied()]], ids=["approved", "applied"])
def test_disbursing_before_the_loan_is_funded_is_rejected(
    scenario: Scenario, history: list[object]
) -> None:
    scenario.given(*history).when(DisburseLoan(loan_id="L1")).then_raises(  # type: ignore[arg-type]
        InvalidTransitionError, match="must be fully funded first"
    )


def test_a_funded_loan_is_disbursed_to_the_borrower(scenario: Scenario) -> None:
    scenario.given(*FUNDED).when(DisburseLoan(loan_id="L1")).then(
        LoanDisbursed("L1", "B1", D("1000.00"), "consumer")
    )
    loan = scenario.state(Loan, "L1")
    assert (loan.status, loan.escrow, loan.outstanding_principal) == ("disbursed", 0, D("1000"))


def test_disbursing_twice_is_rejected(scenario: Scenario) -> None:
    scenario.given(*FUNDED, LoanDisbursed("L1", "B1", D("1000.00"), "consumer"))
    scenario.when(DisburseLoan(loan_id="L1")).then_raises(InvalidTransitionError, match="disbursed")


CLOSED: dict[str, list[DomainEvent]] = {
    "rejected": [applied(), LoanRejected(loan_id="L1", reason="r", product="consumer")],
    "settled": [
        *FUNDED,
        LoanDisbursed("L1", "B1", D("1000.00"), "consumer"),
        LoanSettled("L1", "consumer"),
    ],
    "defaulted": [
        *FUNDED,
        LoanDisbursed("L1", "B1", D("1000.00"), "consumer"),
        LoanDefaulted("L1", D("1000.00"), "consumer"),
    ],
}


@pytest.mark.parametrize("status", sorted(CLOSED))
@pytest.mark.parametrize(
    "command",
    [ApproveLoan(loan_id="L1"), RejectLoan(loan_id="L1", reason="x"), DisburseLoan(loan_id="L1")],
    ids=["approve", "reject", "disburse"],
)
def test_acting_on_a_closed_loan_is_rejected(
    scenario: Scenario, status: str, command: object
) -> None:
    scenario.given(*CLOSED[status]).when(command).then_raises(  # type: ignore[arg-type]
        LoanClosedError, match=f"loan L1 is {status}"
    )
