"""The loan's state and how events fold into it (blindly); decisions live in ``loan.py``.

Money held for a loan between investment and disbursement is its escrow
(``funded - disbursed``); after disbursement the borrower owes ``outstanding_principal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from domain.aggregates.base import Aggregate, decimals, encode
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

APPLIED, APPROVED, FUNDED, DISBURSED = "applied", "approved", "funded", "disbursed"
SETTLED, DEFAULTED, REJECTED = "settled", "defaulted", "rejected"
CLOSED = (SETTLED, DEFAULTED, REJECTED)
FIGURES = (
    "funded",
    "disbursed",
    "outstanding_principal",
    "principal_repaid",
    "interest_repaid",
    "written_off",
)
PLAIN: tuple[str, ...] = ("status", "borrower_id", "product", "amount", "annual_rate")
PLAIN += ("term_months", "installments_paid", "days_past_due", "investments", "reason")


class LoanState(Aggregate):
    stream_type: ClassVar[str] = "loan"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status: str | None = None
        self.borrower_id = self.product = ""
        self.amount = self.annual_rate = ZERO
        self.term_months = self.installments_paid = self.days_past_due = 0
        self.investments: dict[str, Decimal] = {}  # investor -> invested, in order of arrival
        self.figures: dict[str, Decimal] = dict.fromkeys(FIGURES, ZERO)
        self.reason: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.figures["funded"]

    @property
    def escrow(self) -> Decimal:
        return self.figures["funded"] - self.figures["disbursed"]

    @property
    def outstanding_principal(self) -> Decimal:
        return self.figures["outstanding_principal"]

    # --- state --------------------------------------------------------------------------

    def when(self, event: DomainEvent) -> None:
        figures = self.figures
        match event:
            case LoanApplied():
                self.status, self.borrower_id = APPLIED, event.borrower_id
                self.amount, self.product = event.amount, event.product
                self.term_months, self.annual_rate = event.term_months, event.annual_rate
            case LoanApproved():
                self.status = APPROVED
            case LoanRejected():
                self.status, self.reason = REJECTED, event.reason
            case InvestmentReceived():
                previous = self.investments.get(event.investor_id, ZERO)
                self.investments[event.investor_id] = previous + event.amount
                figures["funded"] += event.amount
            case LoanFunded():
                self.status = FUNDED
            case LoanDisbursed():
                self.status = DISBURSED
                figures["disbursed"] += event.amount
                figures["outstanding_principal"] += event.amount
            case RepaymentReceived():
                self.installments_paid, self.days_past_due = event.installment, 0
                figures["outstanding_principal"] -= event.principal
                figures["principal_repaid"] += event.principal
                figures["interest_repaid"] += event.interest
            case RepaymentOverdue():
                self.days_past_due = event.days_past_due
            case LoanSettled():
                self.status = SETTLED
            case LoanDefaulted():
                self.status, self.reason = DEFAULTED, "written off"
                figures["written_off"] += event.outstanding_principal
                figures["outstanding_principal"] -= event.outstanding_principal
            case _:
                raise TypeError(f"Loan cannot apply {type(event).__name__}")

    def to_snapshot(self) -> dict[str, Any]:
        return encode({**{name: getattr(self, name) for name in PLAIN}, **self.figures})

    def restore(self, state: dict[str, Any]) -> None:
        self.status, self.reason = state["status"], state["reason"]
        self.borrower_id, self.product = state["borrower_id"], state["product"]
        self.amount, self.annual_rate = Decimal(state["amount"]), Decimal(state["annual_rate"])
        self.term_months, self.installments_paid = state["term_months"], state["installments_paid"]
        self.days_past_due = state["days_past_due"]
        self.investments = decimals(state["investments"])
        self.figures = {name: Decimal(state[name]) for name in FIGURES}

    def derived(self) -> dict[str, Any]:
        return {"remaining": self.remaining, "escrow": self.escrow}
