"""The commands that due follow-ups send: KYC and risk decisions, disbursements,
repayments (on time, late with overdue notices, or never: a default), withdrawal payouts.

A follow-up whose premise no longer holds (the loan closed, the withdrawal settled) sends
nothing. Days past due count loan days: a loan month (``installment_every``) has 30.
"""

from __future__ import annotations

from domain import commands as c
from domain.simulator import clients
from domain.simulator.clients import envelope
from domain.simulator.views import BORROWER, PENDING, LoanView
from domain.simulator.world import Due, World

KYC_REJECTIONS = (
    "ID document unreadable",
    "name does not match ID",
    "applicant under 18",
    "sanctions screening hit",
)
LOAN_REJECTIONS = (
    "credit score too low",
    "debt-to-income ratio too high",
    "incomplete documents",
    "fraud check failed",
)
WITHDRAWAL_FAILURES = ("bank card frozen", "account name mismatch", "daily limit exceeded")
APPROVAL = {"consumer": 0.72, "car": 0.8, "business": 0.6}
LATE = {"consumer": 0.07, "car": 0.04, "business": 0.06}  # per installment
OVERDUE_MARKS = (1, 5, 15, 31, 45, 61, 75, 90)  # days past due when collections reports
DEFAULT_DAY = 91  # written off after the 90-day notice
WITHDRAWAL_FAILURE = 0.025


def command_for(world: World, due: Due, ts: float) -> c.Command | None:
    """The command ``due`` sends at ``ts``, or None if it no longer applies."""
    people, rng = world.population, world.rng
    if due.kind in ("kyc", "deposit", "apply", "withdrawal"):
        return _user_step(world, due, ts)
    view = people.loans.get(due.key)
    if view is None:
        return None
    by = {"decide": "risk-engine", "disburse": "payments"}.get(due.kind, "collections")
    env = envelope(
        world, view.borrower_id if due.kind in ("installment", "repay") else by, view.correlation
    )
    if due.kind == "decide" and view.status == "applied":
        if rng.random() < APPROVAL[view.product]:
            return c.ApproveLoan(loan_id=view.loan_id, **env)
        return c.RejectLoan(loan_id=view.loan_id, reason=rng.choice(LOAN_REJECTIONS), **env)
    if due.kind == "disburse" and view.status == "funded":
        return c.DisburseLoan(loan_id=view.loan_id, **env)
    if view.status != "disbursed" or view.paid != due.number - 1:
        return None  # repaid, defaulted or rescheduled meanwhile
    if due.kind == "installment":
        if rng.random() >= LATE[view.product]:
            return c.ReceiveRepayment(loan_id=view.loan_id, installment=due.number, **env)
        _fall_behind(world, view, due, ts)
        return None
    if due.kind == "repay":
        return c.ReceiveRepayment(loan_id=view.loan_id, installment=due.number, **env)
    if due.kind == "overdue" and due.days > view.days_past_due:
        return c.MarkRepaymentOverdue(
            loan_id=view.loan_id, installment=due.number, days_past_due=due.days, **env
        )
    if due.kind == "default" and view.days_past_due > 60:
        return c.DefaultLoan(loan_id=view.loan_id, **env)
    return None


def _fall_behind(world: World, view: LoanView, due: Due, due_time: float) -> None:
    """A missed installment: notices at the usual days, then payment on ``cure`` or never."""
    rng, day, now = world.rng, world.loan_day, due_time

    draw = rng.random()
    cure: int | None = None
    if draw < 0.55:
        cure = rng.randint(2, 30)
    elif draw < 0.80:
        cure = rng.randint(31, 60)
    elif draw < 0.92:
        cure = rng.randint(61, 90)
    last = cure if cure is not None else DEFAULT_DAY
    for days in OVERDUE_MARKS:
        if days < last:
            mark = Due("overdue", view.loan_id, due.number, days, due.base, view.correlation)
            world.agenda.add(max(now, due.base + days * day), mark)
    kind = "default" if cure is None else "repay"
    final = Due(kind, view.loan_id, due.number, last, due.base, view.correlation)
    world.agenda.add(max(now, due.base + last * day), final)


def _user_step(world: World, due: Due, ts: float) -> c.Command | None:
    people, rng = world.population, world.rng
    client = people.clients.get(due.key)
    if client is None:
        return None
    if due.kind == "kyc":
        if client.kyc != PENDING:
            return None
        env = envelope(world, "kyc-provider", due.correlation)
        if rng.random() < 0.9:
            return c.VerifyKyc(user_id=client.user_id, **env)
        return c.RejectKyc(user_id=client.user_id, reason=rng.choice(KYC_REJECTIONS), **env)
    if due.kind == "deposit":
        return clients.deposit(world, ts, client)
    if due.kind == "apply":
        return clients.apply_for_loan(world, ts, client) if client.persona == BORROWER else None
    withdrawal_id = due.ref
    if withdrawal_id not in client.holds:
        return None
    env = envelope(world, "payment-channel", due.correlation)
    outage = world.timeline.outage(ts)
    if outage is not None and rng.random() < outage.strength:
        return c.FailWithdrawal(
            user_id=client.user_id, withdrawal_id=withdrawal_id, reason="channel timeout", **env
        )
    if rng.random() < WITHDRAWAL_FAILURE:
        reason = rng.choice(WITHDRAWAL_FAILURES)
        return c.FailWithdrawal(
            user_id=client.user_id, withdrawal_id=withdrawal_id, reason=reason, **env
        )
    return c.CompleteWithdrawal(user_id=client.user_id, withdrawal_id=withdrawal_id, **env)
