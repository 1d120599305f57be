"""What a simulated client believes about a user or a loan (learned from events only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from domain.money import ZERO

INVESTOR, BORROWER = "investor", "borrower"
PENDING, VERIFIED, REJECTED = "pending", "verified", "rejected"


@dataclass
class Client:
    user_id: str
    kyc: str = PENDING
    persona: str = INVESTOR
    balance: Decimal = ZERO
    held: Decimal = ZERO
    holds: dict[str, Decimal] = field(default_factory=dict)  # pending withdrawal -> amount
    open_loan: str | None = None
    blacklisted: bool = False  # defaulted once: never lent to again

    @property
    def available(self) -> Decimal:
        return self.balance - self.held


@dataclass
class LoanView:
    loan_id: str
    borrower_id: str
    product: str
    amount: Decimal
    term_months: int
    status: str = "applied"
    remaining: Decimal = ZERO
    paid: int = 0  # installments repaid
    due: float = 0.0  # epoch seconds when the next installment is due
    days_past_due: int = 0
    correlation: str | None = None
