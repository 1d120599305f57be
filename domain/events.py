"""Domain events: past-tense facts, plain frozen dataclasses.

Each event class names its aggregate's stream type and its current ``schema_version``.
Events carry every field a monitoring query needs (amounts, product, channel) so that
metrics can be declared over single events, without joins. Changing a field's name or
type means bumping ``schema_version`` and registering an upcaster (``domain/upcasting.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar


@dataclass(frozen=True)
class DomainEvent:
    stream_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__


# --- User -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserEvent(DomainEvent):
    stream_type: ClassVar[str] = "user"


@dataclass(frozen=True)
class UserRegistered(UserEvent):
    schema_version: ClassVar[int] = 2  # v1 had no referrer
    user_id: str
    channel: str  # app | web | partner
    referrer: str | None = None


@dataclass(frozen=True)
class KycVerified(UserEvent):
    user_id: str


@dataclass(frozen=True)
class KycRejected(UserEvent):
    user_id: str
    reason: str


# --- Wallet ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WalletEvent(DomainEvent):
    stream_type: ClassVar[str] = "wallet"


@dataclass(frozen=True)
class FundsDeposited(WalletEvent):
    schema_version: ClassVar[int] = 2  # v1: amount as a yuan string, `source` for channel
    user_id: str
    amount: Decimal
    currency: str
    channel: str  # payment channel: unionpay | alipay | wechat_pay


@dataclass(frozen=True)
class WithdrawalRequested(WalletEvent):
    user_id: str
    withdrawal_id: str
    amount: Decimal


@dataclass(frozen=True)
class WithdrawalCompleted(WalletEvent):
    user_id: str
    withdrawal_id: str
    amount: Decimal


@dataclass(frozen=True)
class WithdrawalFailed(WalletEvent):
    user_id: str
    withdrawal_id: str
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class FundsInvested(WalletEvent):
    """Money left the investor's wallet for a loan's escrow."""

    user_id: str
    loan_id: str
    amount: Decimal


@dataclass(frozen=True)
class RepaymentCredited(WalletEvent):
    """An investor's pro-rata share of a borrower's repayment reached their wallet."""

    user_id: str
    loan_id: str
    installment: int
    principal: Decimal
    interest: Decimal


# --- Loan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanEvent(DomainEvent):
    stream_type: ClassVar[str] = "loan"


@dataclass(frozen=True)
class LoanApplied(LoanEvent):
    loan_id: str
    borrower_id: str
    amount: Decimal
    term_months: int
    annual_rate: Decimal
    product: str


@dataclass(frozen=True)
class LoanApproved(LoanEvent):
    loan_id: str
    amount: Decimal
    product: str


@dataclass(frozen=True)
class LoanRejected(LoanEvent):
    loan_id: str
    reason: str
    product: str


@dataclass(frozen=True)
class InvestmentReceived(LoanEvent):
    loan_id: str
    investor_id: str
    amount: Decimal
    product: str


@dataclass(frozen=True)
class LoanFunded(LoanEvent):
    loan_id: str
    amount: Decimal
    investors: int
    product: str


@dataclass(frozen=True)
class LoanDisbursed(LoanEvent):
    loan_id: str
    borrower_id: str
    amount: Decimal
    product: str


@dataclass(frozen=True)
class RepaymentReceived(LoanEvent):
    loan_id: str
    installment: int
    principal: Decimal
    interest: Decimal
    product: str
    overdue_principal_cleared: Decimal = Decimal("0.00")  # principal if it had been overdue


@dataclass(frozen=True)
class RepaymentOverdue(LoanEvent):
    loan_id: str
    installment: int
    days_past_due: int
    principal_due: Decimal
    outstanding_principal: Decimal
    product: str
    newly_overdue_principal: Decimal = Decimal("0.00")  # principal_due on the first report


@dataclass(frozen=True)
class LoanSettled(LoanEvent):
    loan_id: str
    product: str


@dataclass(frozen=True)
class LoanDefaulted(LoanEvent):
    """Written off: the outstanding principal is lost to the loan's investors."""

    loan_id: str
    outstanding_principal: Decimal
    product: str
    overdue_principal: Decimal = Decimal("0.00")  # the overdue installment's principal


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.event_type(): cls
    for cls in (
        UserRegistered,
        KycVerified,
        KycRejected,
        FundsDeposited,
        WithdrawalRequested,
        WithdrawalCompleted,
        WithdrawalFailed,
        FundsInvested,
        RepaymentCredited,
        LoanApplied,
        LoanApproved,
        LoanRejected,
        InvestmentReceived,
        LoanFunded,
        LoanDisbursed,
        RepaymentReceived,
        RepaymentOverdue,
        LoanSettled,
        LoanDefaulted,
    )
}
