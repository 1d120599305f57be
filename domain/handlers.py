"""Command handlers: one function per command, and the registry mapping command type -> handler.

A handler loads the aggregates it needs, asks their pure decision methods for events, and
returns every change at the end as ``[(aggregate, events), ...]``. It stages nothing itself:
if any check fails it raises before returning, so a rejected command (even one touching
several aggregates) leaves no trace. The platform applies and appends the returned changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from domain import commands as c
from domain.aggregates import Aggregate, Loan, User, Wallet
from domain.aggregates.base import require_id
from domain.events import DomainEvent, RepaymentReceived
from domain.money import positive_money

A = TypeVar("A", bound=Aggregate)
Changes = list[tuple[Aggregate, list[DomainEvent]]]


class Aggregates(Protocol):
    def get(self, cls: type[A], aggregate_id: str) -> A: ...


Handler = Callable[[Any, Aggregates], Changes]


def _get(aggregates: Aggregates, cls: type[A], aggregate_id: str, what: str) -> A:
    return aggregates.get(cls, require_id(aggregate_id, what))


def _registered_user(aggregates: Aggregates, user_id: str) -> User:
    user = _get(aggregates, User, user_id, "user_id")
    user.require_registered()
    return user


def register_user(cmd: c.RegisterUser, aggregates: Aggregates) -> Changes:
    user = _get(aggregates, User, cmd.user_id, "user_id")
    return [(user, user.register(cmd.channel, cmd.referrer))]


def verify_kyc(cmd: c.VerifyKyc, aggregates: Aggregates) -> Changes:
    user = _get(aggregates, User, cmd.user_id, "user_id")
    return [(user, user.verify_kyc())]


def reject_kyc(cmd: c.RejectKyc, aggregates: Aggregates) -> Changes:
    user = _get(aggregates, User, cmd.user_id, "user_id")
    return [(user, user.reject_kyc(cmd.reason))]


def deposit(cmd: c.Deposit, aggregates: Aggregates) -> Changes:
    amount = positive_money(cmd.amount, "deposit amount")
    _registered_user(aggregates, cmd.user_id)
    wallet = aggregates.get(Wallet, cmd.user_id)
    return [(wallet, wallet.deposit(amount, cmd.channel))]


def request_withdrawal(cmd: c.RequestWithdrawal, aggregates: Aggregates) -> Changes:
    amount = positive_money(cmd.amount, "withdrawal amount")
    _registered_user(aggregates, cmd.user_id)
    wallet = aggregates.get(Wallet, cmd.user_id)
    return [(wallet, wallet.request_withdrawal(cmd.withdrawal_id, amount))]


def complete_withdrawal(cmd: c.CompleteWithdrawal, aggregates: Aggregates) -> Changes:
    _registered_user(aggregates, cmd.user_id)
    wallet = aggregates.get(Wallet, cmd.user_id)
    return [(wallet, wallet.complete_withdrawal(cmd.withdrawal_id))]


def fail_withdrawal(cmd: c.FailWithdrawal, aggregates: Aggregates) -> Changes:
    _registered_user(aggregates, cmd.user_id)
    wallet = aggregates.get(Wallet, cmd.user_id)
    return [(wallet, wallet.fail_withdrawal(cmd.withdrawal_id, cmd.reason))]


def invest(cmd: c.Invest, aggregates: Aggregates) -> Changes:
    """Wallet -> loan escrow, both streams in one transaction (plus LoanFunded when full)."""
    amount = positive_money(cmd.amount, "investment amount")
    investor = _get(aggregates, User, cmd.investor_id, "investor_id")
    investor.require_kyc_verified()
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    loan_events = loan.invest(cmd.investor_id, amount)
    wallet = aggregates.get(Wallet, cmd.investor_id)
    wallet_events = wallet.invest(cmd.loan_id, amount)
    return [(wallet, wallet_events), (loan, loan_events)]


def apply_for_loan(cmd: c.ApplyForLoan, aggregates: Aggregates) -> Changes:
    amount = positive_money(cmd.amount, "loan amount")
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    if not loan.exists:  # a duplicate loan id is reported as such, whoever applies
        _registered_user(aggregates, cmd.borrower_id)
    events = loan.apply_for(cmd.borrower_id, amount, cmd.term_months, cmd.annual_rate, cmd.product)
    return [(loan, events)]


def approve_loan(cmd: c.ApproveLoan, aggregates: Aggregates) -> Changes:
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    return [(loan, loan.approve())]


def reject_loan(cmd: c.RejectLoan, aggregates: Aggregates) -> Changes:
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    return [(loan, loan.reject(cmd.reason))]


def disburse_loan(cmd: c.DisburseLoan, aggregates: Aggregates) -> Changes:
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    return [(loan, loan.disburse())]


def receive_repayment(cmd: c.ReceiveRepayment, aggregates: Aggregates) -> Changes:
    """The borrower's installment, split pro rata onto the investors' wallets, atomically."""
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    loan_events = loan.receive_repayment(cmd.installment)
    received = next(e for e in loan_events if isinstance(e, RepaymentReceived))
    changes: Changes = [(loan, loan_events)]
    for investor_id, principal, interest in loan.investor_shares(
        received.principal, received.interest
    ):
        if principal or interest:
            wallet = aggregates.get(Wallet, investor_id)
            credit = wallet.credit_repayment(loan.id, cmd.installment, principal, interest)
            changes.append((wallet, credit))
    return changes


def mark_repayment_overdue(cmd: c.MarkRepaymentOverdue, aggregates: Aggregates) -> Changes:
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    return [(loan, loan.mark_overdue(cmd.installment, cmd.days_past_due))]


def default_loan(cmd: c.DefaultLoan, aggregates: Aggregates) -> Changes:
    loan = _get(aggregates, Loan, cmd.loan_id, "loan_id")
    return [(loan, loan.default())]


HANDLERS: dict[type[c.Command], Handler] = {
    c.RegisterUser: register_user,
    c.VerifyKyc: verify_kyc,
    c.RejectKyc: reject_kyc,
    c.Deposit: deposit,
    c.RequestWithdrawal: request_withdrawal,
    c.CompleteWithdrawal: complete_withdrawal,
    c.FailWithdrawal: fail_withdrawal,
    c.Invest: invest,
    c.ApplyForLoan: apply_for_loan,
    c.ApproveLoan: approve_loan,
    c.RejectLoan: reject_loan,
    c.DisburseLoan: disburse_loan,
    c.ReceiveRepayment: receive_repayment,
    c.MarkRepaymentOverdue: mark_repayment_overdue,
    c.DefaultLoan: default_loan,
}
