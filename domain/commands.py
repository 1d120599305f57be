"""Commands: requests to change the platform, named as verbs. Plain frozen dataclasses.

Every command carries keyword-only ``command_id`` (a fresh uuid4 unless given: handling the
same id twice appends once), ``actor`` and ``correlation_id`` (default: the command id).
Fields are not validated here; handlers validate them and raise ``DomainError``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal


def new_command_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, kw_only=True)
class Command:
    command_id: str = field(default_factory=new_command_id)
    actor: str = "system"
    correlation_id: str | None = None

    @classmethod
    def command_type(cls) -> str:
        return cls.__name__


# --- User -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterUser(Command):
    user_id: str
    channel: str  # app | web | partner
    referrer: str | None = None


@dataclass(frozen=True)
class VerifyKyc(Command):
    user_id: str


@dataclass(frozen=True)
class RejectKyc(Command):
    user_id: str
    reason: str


# --- Wallet ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deposit(Command):
    user_id: str
    amount: Decimal
    channel: str  # unionpay | alipay | wechat_pay


@dataclass(frozen=True)
class RequestWithdrawal(Command):
    user_id: str
    withdrawal_id: str
    amount: Decimal


@dataclass(frozen=True)
class CompleteWithdrawal(Command):
    user_id: str
    withdrawal_id: str


@dataclass(frozen=True)
class FailWithdrawal(Command):
    user_id: str
    withdrawal_id: str
    reason: str


@dataclass(frozen=True)
class Invest(Command):
    investor_id: str
    loan_id: str
    amount: Decimal


# --- Loan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyForLoan(Command):
    loan_id: str
    borrower_id: str
    amount: Decimal
    term_months: int
    annual_rate: Decimal
    product: str  # consumer | business | car


@dataclass(frozen=True)
class ApproveLoan(Command):
    loan_id: str


@dataclass(frozen=True)
class RejectLoan(Command):
    loan_id: str
    reason: str


@dataclass(frozen=True)
class DisburseLoan(Command):
    loan_id: str


@dataclass(frozen=True)
class ReceiveRepayment(Command):
    loan_id: str
    installment: int


@dataclass(frozen=True)
class MarkRepaymentOverdue(Command):
    loan_id: str
    installment: int
    days_past_due: int


@dataclass(frozen=True)
class DefaultLoan(Command):
    loan_id: str
