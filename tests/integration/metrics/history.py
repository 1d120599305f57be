"""A realistic three-day history of the platform, built from the domain's own events.

Sunday 12:00 to Wednesday 12:00 in Asia/Shanghai: registrations by channel and KYC,
deposits by payment channel, withdrawals requested then completed or failed (same
``withdrawal_id``), loans applied, approved or rejected, invested in, disbursed, repaid,
reported overdue and defaulted. Events are appended in arrival order, many streams per
transaction; a few arrive late (a payment channel's or partner's file hours after the fact),
so they are appended after events that happened later.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain import events as ev
from domain.eventstore import EventStore, NewEvent, StreamAppend
from domain.serialization import to_new_event

START = datetime(2024, 3, 3, 4, 0, tzinfo=UTC)  # Sunday 12:00 Shanghai
END = START + timedelta(hours=72)  # Wednesday 12:00 Shanghai
SPLIT = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)  # what arrived before this is ingested first
MIDNIGHTS = [datetime(2024, 3, d, 16, 0, tzinfo=UTC) for d in (3, 4, 5)]  # local midnights
PAYMENT_CHANNELS = ("unionpay", "alipay", "wechat_pay")
USER_CHANNELS = ("app", "web", "partner")
PRODUCTS = {"consumer": (12_000, 0.7), "car": (80_000, 0.5), "business": (150_000, 0.8)}


def money(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


@dataclass(frozen=True)
class Planned:
    arrival: datetime
    occurred: datetime
    stream_id: str
    event: ev.DomainEvent
    late: bool = False


@dataclass
class Plan:
    rng: random.Random
    planned: list[Planned] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    withdrawals: int = 0

    def add(self, stream_id: str, when: datetime, event: ev.DomainEvent, delay: float = 0) -> None:
        if when < END:
            arrival = when + timedelta(seconds=delay)
            self.planned.append(Planned(arrival, when, stream_id, event, late=delay > 0))

    def moment(self, after: datetime = START, before: datetime = END) -> datetime:
        """A time in [after, before), three times as likely in local business hours."""
        span = (before - after).total_seconds()
        while True:
            when = after + timedelta(seconds=self.rng.random() * span)
            local_hour = (when.hour + 8) % 24
            if 8 <= local_hour < 23 or self.rng.random() < 1 / 3:
                return when.replace(microsecond=self.rng.randrange(0, 1_000_000, 1000))

    def later(self, when: datetime, median_s: float, sigma: float = 1.0) -> datetime:
        seconds = max(1.0, self.rng.lognormvariate(math.log(median_s), sigma))
        return when + timedelta(seconds=round(seconds, 3))


def deposit_amount(rng: random.Random) -> Decimal:
    if rng.random() < 0.35:
        return money(100 * rng.choice((100, 500, 1_000, 2_000, 5_000, 10_000, 50_000)))
    return money(int(min(max(rng.lognormvariate(math.log(2_500), 1.1), 10), 500_000) * 100))


def users(plan: Plan, count: int) -> None:
    for n in range(1, count + 1):
        user = f"U{n:06d}"
        registered = plan.moment(before=END - timedelta(hours=2))
        channel = plan.rng.choices(USER_CHANNELS, (0.6, 0.3, 0.1))[0]
        referrer = plan.rng.choice(plan.users) if plan.users and plan.rng.random() < 0.2 else None
        plan.add(f"user-{user}", registered, ev.UserRegistered(user, channel, referrer))
        plan.users.append(user)
        if plan.rng.random() < 0.85:
            decided = plan.later(registered, 600)
            if plan.rng.random() < 0.8:
                plan.add(f"user-{user}", decided, ev.KycVerified(user))
            else:
                plan.add(f"user-{user}", decided, ev.KycRejected(user, "id photo unreadable"))
        wallet(plan, user, registered)


def wallet(plan: Plan, user: str, registered: datetime) -> None:
    stream = f"wallet-{user}"
    for _ in range(plan.rng.choice((0, 1, 2, 3, 4, 6, 9))):
        when = plan.moment(after=registered + timedelta(minutes=5))
        amount = deposit_amount(plan.rng)
        channel = plan.rng.choices(PAYMENT_CHANNELS, (0.22, 0.45, 0.33))[0]
        plan.add(stream, when, ev.FundsDeposited(user, amount, "CNY", channel))
        if plan.rng.random() < 0.3:
            withdrawal(plan, stream, user, plan.later(when, 3 * 3600), amount)


def withdrawal(
    plan: Plan, stream: str, user: str, when: datetime, amount: Decimal, delay: float = 0
) -> None:
    plan.withdrawals += 1
    withdrawal_id = f"W{plan.withdrawals:07d}"
    plan.add(stream, when, ev.WithdrawalRequested(user, withdrawal_id, amount), delay)
    if plan.rng.random() < 0.85:
        done = plan.later(when, 900, 1.2)
        plan.add(stream, done, ev.WithdrawalCompleted(user, withdrawal_id, amount), delay)
    else:
        failed = plan.later(when, 120, 0.5)
        event = ev.WithdrawalFailed(user, withdrawal_id, amount, "channel timeout")
        plan.add(stream, failed, event, delay)


def loans(plan: Plan, count: int) -> None:
    for n in range(1, count + 1):
        loan_id, stream = f"L{n:06d}", f"loan-L{n:06d}"
        product = plan.rng.choices(list(PRODUCTS), (0.6, 0.25, 0.15))[0]
        median, sigma = PRODUCTS[product]
        amount = money(int(plan.rng.lognormvariate(math.log(median), sigma)) // 100 * 10_000)
        amount = max(amount, money(100_000))
        applied = plan.moment(before=END - timedelta(hours=6))
        borrower = plan.rng.choice(plan.users)
        rate = Decimal(plan.rng.randrange(500, 2400, 5)).scaleb(-4)
        plan.add(stream, applied, ev.LoanApplied(loan_id, borrower, amount, 12, rate, product))
        decided = plan.later(applied, 1800)
        if plan.rng.random() < 0.25:
            plan.add(stream, decided, ev.LoanRejected(loan_id, "credit score", product))
            continue
        plan.add(stream, decided, ev.LoanApproved(loan_id, amount, product))
        funded = invest(plan, stream, loan_id, product, amount, decided)
        plan.add(stream, funded, ev.LoanFunded(loan_id, amount, 3, product))
        disbursed = plan.later(funded, 600)
        plan.add(stream, disbursed, ev.LoanDisbursed(loan_id, borrower, amount, product))
        repay(plan, stream, loan_id, product, amount, disbursed)


def invest(
    plan: Plan, stream: str, loan_id: str, product: str, amount: Decimal, after: datetime
) -> datetime:
    """Three investors share the loan; returns when the last one invested."""
    when = after
    fen = int(amount * 100)
    for share in (money(fen // 3), money(fen // 3), money(fen - 2 * (fen // 3))):
        when = plan.later(when, 1200)
        investor = plan.rng.choice(plan.users)
        plan.add(stream, when, ev.InvestmentReceived(loan_id, investor, share, product))
        plan.add(f"wallet-{investor}", when, ev.FundsInvested(investor, loan_id, share))
    return plan.later(when, 60)


def repay(
    plan: Plan, stream: str, loan_id: str, product: str, amount: Decimal, after: datetime
) -> None:
    """Installments every ~8 hours (time runs fast in a test); some reported overdue (once
    or twice), then repaid late or written off."""
    outstanding, when = amount, after
    principal = (amount / 12).quantize(Decimal("0.01"))
    for installment in range(1, 13):
        when = plan.later(when + timedelta(hours=8), 600)
        interest = (outstanding * Decimal("0.01")).quantize(Decimal("0.01"))
        cleared = Decimal("0.00")
        if plan.rng.random() < 0.2:
            for report in range(plan.rng.choice((1, 1, 2))):
                days = plan.rng.choice((1, 3, 7, 15, 30, 31, 45, 60, 61, 90)) + 30 * report
                newly = principal if report == 0 else Decimal("0.00")
                plan.add(stream, when, ev.RepaymentOverdue(
                    loan_id, installment, days, principal, outstanding, product, newly
                ))  # fmt: skip
                when = plan.later(when, 3600)
            if plan.rng.random() < 0.3:
                lost = ev.LoanDefaulted(loan_id, outstanding, product, principal)
                plan.add(stream, when, lost)
                return
            cleared = principal
        repaid = ev.RepaymentReceived(loan_id, installment, principal, interest, product, cleared)
        plan.add(stream, when, repaid)
        outstanding -= principal


def boundaries(plan: Plan) -> None:
    """Deposits and registrations on both sides of every local midnight."""
    for n, midnight in enumerate(MIDNIGHTS):
        user = f"B{n:05d}"
        edges = (-timedelta(milliseconds=1), timedelta(0), timedelta(seconds=59.999))
        for k, edge in enumerate(edges):
            deposit = ev.FundsDeposited(user, money(10_000 + 101 * k), "CNY", PAYMENT_CHANNELS[k])
            plan.add(f"wallet-{user}", midnight + edge, deposit)
        plan.add(f"user-{user}", midnight - timedelta(seconds=30), ev.UserRegistered(user, "web"))


def late_arrivals(plan: Plan) -> None:
    """A channel's settlement file and a partner's sign-up batch, hours after the fact."""
    for n in range(40):
        user = f"LATE{n:04d}"
        when = plan.moment(before=SPLIT)
        delay = plan.rng.choice((900, 3_600, 6 * 3_600, 20 * 3_600))
        channel = PAYMENT_CHANNELS[n % 3]
        deposit = ev.FundsDeposited(user, deposit_amount(plan.rng), "CNY", channel)
        plan.add(f"wallet-{user}", when, deposit, delay)
        if n % 4 == 0:
            plan.add(f"user-{user}", when, ev.UserRegistered(user, "partner"), delay)
            plan.add(f"user-{user}", when + timedelta(seconds=5), ev.KycVerified(user), delay)
        if n % 5 == 0:
            withdrawal(plan, f"wallet-{user}", user, when + timedelta(minutes=2), money(100), delay)


def build_plan(seed: int = 20240303) -> list[Planned]:
    plan = Plan(random.Random(seed))
    users(plan, 220)
    loans(plan, 80)
    boundaries(plan)
    late_arrivals(plan)
    return sorted(plan.planned, key=lambda p: (p.arrival, p.occurred))


def append_all(
    store: EventStore, planned: list[Planned], versions: dict[str, int], events_per_tx: int = 40
) -> None:
    """Append in arrival order, up to ``events_per_tx`` per transaction (several streams);
    ``versions`` holds each stream's version and is kept up to date. The store orders a
    transaction's events by business time (each stream's order kept), so a transaction
    ends where arrival order would interleave a stream or go back in time: the stored
    order is the arrival order, late events included."""
    for chunk in transactions(planned, events_per_tx):
        by_stream: dict[str, list[NewEvent]] = defaultdict(list)
        for item in chunk:
            by_stream[item.stream_id].append(to_new_event(item.event, item.occurred))
        appends = []
        for stream_id, new in by_stream.items():
            stream_type = stream_id.partition("-")[0]
            version = versions.get(stream_id, 0)
            appends.append(StreamAppend(stream_id, stream_type, version, new))
            versions[stream_id] = version + len(new)
        store.append_streams(appends)


def transactions(planned: list[Planned], size: int) -> list[list[Planned]]:
    chunks: list[list[Planned]] = [[]]
    for item in planned:
        chunk = chunks[-1]
        interleaves = any(p.stream_id == item.stream_id for p in chunk[:-1]) and (
            chunk[-1].stream_id != item.stream_id
        )
        backwards = bool(chunk) and item.occurred < max(p.occurred for p in chunk)
        if len(chunk) >= size or interleaves or backwards:
            chunks.append([])
        chunks[-1].append(item)
    return [chunk for chunk in chunks if chunk]
