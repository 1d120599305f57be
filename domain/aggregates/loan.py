"""A loan: applied, approved (or rejected), funded by investors, disbursed, repaid or defaulted.

Each decision checks the command against the state (``loan_state.py``) and returns events.
"""

from __future__ import annotations

from decimal import Decimal

from domain.aggregates.base import require_id, require_reason
from domain.aggregates.errors import (
    DuplicateLoanError,
    InvalidCommandError,
    InvalidTransitionError,
    LoanClosedError,
    LoanOverfundedError,
    UnknownLoanError,
)
from domain.aggregates.loan_rules import check_terms
from domain.aggregates.loan_state import APPLIED, APPROVED, CLOSED, DISBURSED, FUNDED, LoanState
from domain.aggregates.schedule import Installment, installment, split_pro_rata
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
    RepaymentOverdue,
    RepaymentReceived,
)
from domain.money import ZERO

DEFAULT_AFTER_DAYS = 60


class Loan(LoanState):
    # --- decisions ----------------------------------------------------------------------

    def apply_for(
        self, borrower_id: str, amount: Decimal, term: int, rate: Decimal, product: str
    ) -> list[DomainEvent]:
        require_id(self.id, "loan_id")
        if self.exists:
            raise DuplicateLoanError(f"loan {self.id} already exists")
        check_terms(amount, term, rate, product)
        return [
            LoanApplied(
                self.id, require_id(borrower_id, "borrower_id"), amount, term, rate, product
            )
        ]

    def approve(self) -> list[DomainEvent]:
        self._require(APPLIED, doing="approve")
        return [LoanApproved(loan_id=self.id, amount=self.amount, product=self.product)]

    def reject(self, reason: str) -> list[DomainEvent]:
        self._require(APPLIED, doing="reject")
        return [LoanRejected(loan_id=self.id, reason=require_reason(reason), product=self.product)]

    def invest(self, investor_id: str, amount: Decimal) -> list[DomainEvent]:
        self._require(APPROVED, FUNDED, doing="take investments")
        if investor_id == self.borrower_id:
            raise InvalidCommandError(f"borrower {investor_id} cannot invest in their own loan")
        if amount > self.remaining:
            raise LoanOverfundedError(
                f"loan {self.id} needs only {self.remaining} more; cannot take {amount}"
            )
        events: list[DomainEvent] = [InvestmentReceived(self.id, investor_id, amount, self.product)]
        if amount == self.remaining:
            investors = len(self.investments) + (investor_id not in self.investments)
            events.append(LoanFunded(self.id, self.amount, investors, self.product))
        return events

    def disburse(self) -> list[DomainEvent]:
        self._require(FUNDED, doing="be disbursed (it must be fully funded first)")
        return [LoanDisbursed(self.id, self.borrower_id, self.amount, self.product)]

    def receive_repayment(self, number: int) -> list[DomainEvent]:
        due = self._next_installment(number, doing="be repaid")
        cleared = due.principal if self.days_past_due > 0 else ZERO
        events: list[DomainEvent] = [
            RepaymentReceived(self.id, number, due.principal, due.interest, self.product, cleared)
        ]
        if number == self.term_months:
            events.append(LoanSettled(loan_id=self.id, product=self.product))
        return events

    def investor_shares(
        self, principal: Decimal, interest: Decimal
    ) -> list[tuple[str, Decimal, Decimal]]:
        """Each investor's (investor_id, principal, interest) share of the next repayment.

        Principal is split on the cumulative amount repaid so far (this installment's
        shares are the cumulative split after it minus the one before), so by the last
        installment every investor has received back exactly what they invested; the
        shares of one installment still sum exactly to its principal.
        """
        repaid = self.figures["principal_repaid"]
        before = split_pro_rata(repaid, self.investments) if repaid else {}
        after = split_pro_rata(repaid + principal, self.investments)
        principals = {who: after[who] - before.get(who, ZERO) for who in self.investments}
        interests = split_pro_rata(interest, self.investments)
        return [(who, principals[who], interests[who]) for who in self.investments]

    def mark_overdue(self, number: int, days_past_due: int) -> list[DomainEvent]:
        due = self._next_installment(number, doing="be overdue")
        if isinstance(days_past_due, bool) or not isinstance(days_past_due, int):
            raise InvalidCommandError(f"days_past_due must be an integer, got {days_past_due!r}")
        if days_past_due <= 0:
            raise InvalidCommandError(f"days_past_due must be positive, got {days_past_due}")
        if days_past_due <= self.days_past_due:
            raise InvalidTransitionError(
                f"installment {number} of loan {self.id} was already reported "
                f"{self.days_past_due} days past due; got {days_past_due}"
            )
        return [
            RepaymentOverdue(
                self.id,
                number,
                days_past_due,
                due.principal,
                self.outstanding_principal,
                self.product,
                due.principal if self.days_past_due == 0 else ZERO,
            )
        ]

    def default(self) -> list[DomainEvent]:
        self._require(DISBURSED, doing="default")
        if self.days_past_due <= DEFAULT_AFTER_DAYS:
            raise InvalidTransitionError(
                f"loan {self.id} can default only with an installment more than "
                f"{DEFAULT_AFTER_DAYS} days past due; installment {self.installments_paid + 1} "
                f"is {self.days_past_due} days past due"
            )
        overdue = self._next_installment(self.installments_paid + 1, doing="default").principal
        return [LoanDefaulted(self.id, self.outstanding_principal, self.product, overdue)]

    def _next_installment(self, number: int, doing: str) -> Installment:
        self._require(DISBURSED, doing=doing)
        expected = self.installments_paid + 1
        if isinstance(number, bool) or number != expected:
            raise InvalidTransitionError(
                f"installment {number!r} of loan {self.id} cannot {doing}: "
                f"the next unpaid installment is {expected} of {self.term_months}"
            )
        return installment(self.amount, self.term_months, self.annual_rate, number)

    def _require(self, *allowed: str, doing: str) -> None:
        if not self.exists:
            raise UnknownLoanError(f"unknown loan {self.id!r}")
        if self.status in CLOSED:
            raise LoanClosedError(f"loan {self.id} is {self.status}; it cannot {doing}")
        if self.status not in allowed:
            raise InvalidTransitionError(f"loan {self.id} is {self.status}; it cannot {doing}")
