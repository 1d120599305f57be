from __future__ import annotations

from decimal import Decimal

import pytest

from domain.aggregates import Loan, Wallet
from domain.aggregates.errors import (
    InsufficientFundsError,
    InvalidAmountError,
    InvalidCommandError,
    InvalidTransitionError,
    KycRequiredError,
    LoanClosedError,
    LoanOverfundedError,
    UnknownLoanError,
    UnknownUserError,
)
from domain.commands import Invest
from domain.events import (
    FundsInvested,
    InvestmentReceived,
    KycRejected,
    LoanDisbursed,
    LoanFunded,
    LoanRejected,
    WithdrawalRequested,
)
from tests.unit.domain.scenario import Scenario, applied, approved, deposited, user

D = Decimal


def invest(amount: str, investor: str = "U1", loan: str = "L1") -> Invest:
    return Invest(investor_id=investor, loan_id=loan, amount=D(amount))


def test_an_investment_moves_money_from_the_wallet_into_the_loan_escrow(
    scenario: Scenario,
) -> None:
    scenario.given(*user("B1"), *user("U1"), deposited("U1", "500.00"), *approved())
    scenario.when(invest("300.00")).then(
        FundsInvested(user_id="U1", loan_id="L1", amount=D("300.00")),
        InvestmentReceived("L1", "U1", D("300.00"), "consumer"),
    )
    assert scenario.state(Wallet, "U1").available == D("200.00")
    loan = scenario.state(Loan, "L1")
    assert (loan.escrow, loan.remaining, loan.status) == (D("300"), D("700"), "approved")


def test_the_investment_that_fills_the_loan_also_funds_it(scenario: Scenario) -> None:
    scenario.given(*user("U1"), *user("U2"), deposited("U1", "700"), deposited("U2", "900"))
    scenario.given(*approved(), InvestmentReceived("L1", "U1", D("400.00"), "consumer"))
    scenario.when(invest("600.00", investor="U2")).then(
        FundsInvested(user_id="U2", loan_id="L1", amount=D("600.00")),
        InvestmentReceived("L1", "U2", D("600.00"), "consumer"),
        LoanFunded("L1", D("1000.00"), 2, "consumer"),
    )
    assert scenario.state(Loan, "L1").status == "funded"


def test_an_investor_topping_up_is_counted_once(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "1000"), *approved())
    scenario.given(InvestmentReceived("L1", "U1", D("400.00"), "consumer"))
    scenario.when(invest("600.00")).then(
        FundsInvested(user_id="U1", loan_id="L1", amount=D("600.00")),
        InvestmentReceived("L1", "U1", D("600.00"), "consumer"),
        LoanFunded("L1", D("1000.00"), 1, "consumer"),
    )


def test_investing_without_kyc_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1", kyc=False), deposited("U1", "500.00"), *approved())
    scenario.when(invest("100.00")).then_raises(KycRequiredError, match="KYC is pending")


def test_investing_after_a_kyc_rejection_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1", kyc=False), KycRejected(user_id="U1", reason="fake id"))
    scenario.given(deposited("U1", "500.00"), *approved())
    scenario.when(invest("100.00")).then_raises(KycRequiredError, match="KYC is rejected")


def test_investing_more_than_the_loan_still_needs_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "5000.00"), *approved())
    scenario.given(InvestmentReceived("L1", "U2", D("900.00"), "consumer"))
    scenario.when(invest("100.01")).then_raises(
        LoanOverfundedError, match="loan L1 needs only 100.00 more; cannot take 100.01"
    )


def test_investing_in_a_funded_loan_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "5000.00"), *approved())
    scenario.given(InvestmentReceived("L1", "U2", D("1000.00"), "consumer"))
    scenario.given(LoanFunded("L1", D("1000.00"), 1, "consumer"))
    scenario.when(invest("0.01")).then_raises(LoanOverfundedError, match="needs only 0.00 more")


def test_investing_more_than_the_wallet_holds_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "99.99"), *approved())
    scenario.when(invest("100.00")).then_raises(
        InsufficientFundsError, match="cannot invest 100.00: only 99.99 available"
    )


def test_held_withdrawals_cannot_be_invested(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), *approved())
    scenario.given(WithdrawalRequested(user_id="U1", withdrawal_id="W1", amount=D("50.00")))
    scenario.when(invest("50.01")).then_raises(InsufficientFundsError, match="held 50.00")


def test_investing_from_an_empty_wallet_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), *approved()).when(invest("1.00")).then_raises(
        InsufficientFundsError, match="only 0.00 available"
    )


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001"])
def test_investing_a_bad_amount_is_rejected(scenario: Scenario, amount: str) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), *approved())
    scenario.when(invest(amount)).then_raises(InvalidAmountError)


def test_investing_a_float_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), *approved())
    scenario.when(Invest(investor_id="U1", loan_id="L1", amount=10.0)).then_raises(  # type: ignore[arg-type]
        InvalidAmountError, match="never a float"
    )


def test_investing_as_an_unknown_user_is_rejected(scenario: Scenario) -> None:
    scenario.given(*approved()).when(invest("1.00", investor="U9")).then_raises(
        UnknownUserError, match="'U9'"
    )


def test_investing_in_an_unknown_loan_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"))
    scenario.when(invest("1.00", loan="L9")).then_raises(UnknownLoanError, match="'L9'")


def test_investing_before_approval_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), applied())
    scenario.when(invest("1.00")).then_raises(
        InvalidTransitionError, match="loan L1 is applied; it cannot take investments"
    )


def test_investing_in_a_disbursed_loan_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), *approved())
    scenario.given(InvestmentReceived("L1", "U2", D("1000.00"), "consumer"))
    scenario.given(LoanFunded("L1", D("1000.00"), 1, "consumer"))
    scenario.given(LoanDisbursed("L1", "B1", D("1000.00"), "consumer"))
    scenario.when(invest("1.00")).then_raises(InvalidTransitionError, match="is disbursed")


def test_investing_in_a_rejected_loan_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), applied())
    scenario.given(LoanRejected(loan_id="L1", reason="r", product="consumer"))
    scenario.when(invest("1.00")).then_raises(LoanClosedError, match="loan L1 is rejected")


def test_a_borrower_cannot_invest_in_their_own_loan(scenario: Scenario) -> None:
    scenario.given(*user("B1"), deposited("B1", "100.00"), *approved())
    scenario.when(invest("1.00", investor="B1")).then_raises(
        InvalidCommandError, match="cannot invest in their own loan"
    )
