"""The simulated clients' view of the platform, learned only from the events it answered with.

Users (their KYC, their persona, the balance they believe they have, their pending
withdrawals) and loans (status, what they still need, the next installment and when it is
due). Pools give O(1), seed-stable random picks ("an investor with cash", "a listed loan").
"""

from __future__ import annotations

import random
from collections import deque

from domain import events as e
from domain.money import ZERO
from domain.simulator.amounts import MIN_INVESTMENT
from domain.simulator.pools import IdCounter, Pool
from domain.simulator.views import (
    BORROWER,
    INVESTOR,
    PENDING,
    REJECTED,
    VERIFIED,
    Client,
    LoanView,
)


class Population:
    def __init__(self, installment_every: float) -> None:
        self.every = installment_every  # seconds of simulated time per installment
        self.clients: dict[str, Client] = {}
        self.loans: dict[str, LoanView] = {}
        self.unverified, self.investors, self.with_cash = Pool(), Pool(), Pool()
        self.idle_borrowers, self.listing = Pool(), Pool()
        self.recently_funded: deque[str] = deque(maxlen=20)
        self.user_ids, self.loan_ids = IdCounter("U", 6), IdCounter("L", 6)
        self.withdrawal_ids = IdCounter("W", 8)

    def pick(self, pool: Pool, rng: random.Random) -> Client | None:
        key = pool.choice(rng)
        return None if key is None else self.clients[key]

    def client(self, user_id: str) -> Client:
        found = self.clients.get(user_id)
        if found is None:
            found = self.clients[user_id] = Client(user_id)
            self.user_ids.saw(user_id)
        return found

    def set_persona(self, client: Client, persona: str) -> None:
        client.persona = persona
        self._refresh(client)

    def _refresh(self, c: Client) -> None:
        verified = c.kyc == VERIFIED
        self.unverified.toggle(c.user_id, c.kyc == PENDING)
        self.investors.toggle(c.user_id, verified and c.persona == INVESTOR)
        self.with_cash.toggle(
            c.user_id, c.user_id in self.investors and c.available >= MIN_INVESTMENT
        )
        idle = verified and c.persona == BORROWER and not c.open_loan and not c.blacklisted
        self.idle_borrowers.toggle(c.user_id, idle)

    def apply(self, event: e.DomainEvent, ts: float, correlation: str | None = None) -> None:
        """Fold one event the platform reported (or the store holds) into the view."""
        if isinstance(event, e.LoanEvent):
            self._apply_loan(event, ts, correlation)
            return
        c = self.client(event.user_id)  # type: ignore[attr-defined]
        match event:
            case e.KycVerified():
                c.kyc = VERIFIED
            case e.KycRejected():
                c.kyc = REJECTED
            case e.FundsDeposited():
                c.balance += event.amount
            case e.WithdrawalRequested():
                c.holds[event.withdrawal_id] = event.amount
                c.held += event.amount
                self.withdrawal_ids.saw(event.withdrawal_id)
            case e.WithdrawalCompleted() | e.WithdrawalFailed():
                c.held -= c.holds.pop(event.withdrawal_id, ZERO)
                if isinstance(event, e.WithdrawalCompleted):
                    c.balance -= event.amount
            case e.FundsInvested():
                c.balance -= event.amount
            case e.RepaymentCredited():
                c.balance += event.principal + event.interest
        self._refresh(c)

    def _apply_loan(self, event: e.LoanEvent, ts: float, correlation: str | None) -> None:
        if isinstance(event, e.LoanApplied):
            self._open(event, correlation)
            return
        view = self.loans.get(event.loan_id)  # type: ignore[attr-defined]
        if view is None:
            return  # a loan applied before the history this view has seen
        match event:
            case e.LoanApproved():
                view.status = "approved"
                self.listing.add(view.loan_id)
            case e.InvestmentReceived():
                view.remaining -= event.amount
            case e.LoanFunded():
                view.status = "funded"
                self.listing.discard(view.loan_id)
                self.recently_funded.append(view.loan_id)
            case e.LoanDisbursed():
                view.status, view.due = "disbursed", ts + self.every
            case e.RepaymentReceived():
                late = view.days_past_due > 0 or ts > view.due
                view.paid, view.days_past_due = event.installment, 0
                view.due = ts + self.every if late else view.due + self.every
            case e.RepaymentOverdue():
                view.days_past_due = event.days_past_due
            case e.LoanRejected() | e.LoanSettled() | e.LoanDefaulted():
                view.status = type(event).__name__.removeprefix("Loan").lower()
                self._close(view, defaulted=isinstance(event, e.LoanDefaulted))

    def _open(self, event: e.LoanApplied, correlation: str | None) -> None:
        self.loans[event.loan_id] = LoanView(
            event.loan_id, event.borrower_id, event.product, event.amount, event.term_months,
            remaining=event.amount, correlation=correlation,
        )  # fmt: skip
        self.loan_ids.saw(event.loan_id)
        borrower = self.client(event.borrower_id)
        borrower.open_loan, borrower.persona = event.loan_id, BORROWER
        self._refresh(borrower)

    def _close(self, view: LoanView, defaulted: bool) -> None:
        self.listing.discard(view.loan_id)
        borrower = self.client(view.borrower_id)
        if borrower.open_loan == view.loan_id:
            borrower.open_loan = None
        borrower.blacklisted = borrower.blacklisted or defaulted
        self._refresh(borrower)
