"""What clients do on their own: register, deposit, invest, withdraw, apply for a loan.

Each returns the command a client would send now, or None when nobody fits (no listed
loan, no investor with cash). A few clients act on a stale view of the platform, as real
ones do, and get rejected: a loan that filled while they looked, a balance that forgets a
pending withdrawal, an investment before their KYC went through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from domain import commands as c
from domain.aggregates.wallet import PAYMENT_CHANNELS
from domain.simulator import amounts
from domain.simulator.views import INVESTOR, Client
from domain.simulator.world import World

KINDS = ("register", "deposit", "invest", "withdraw", "apply")
WEIGHTS = (0.14, 0.52, 0.10, 0.235, 0.005)
USER_CHANNELS, USER_CHANNEL_WEIGHTS = ("app", "web", "partner"), (0.55, 0.30, 0.15)
STALE_VIEW = 0.03  # share of investments and withdrawals made on a stale view


def act(world: World, kind: str, ts: float) -> c.Command | None:
    return _ACTIONS[kind](world, ts)


def register(world: World, ts: float) -> c.Command:
    rng, people = world.rng, world.population
    campaign = world.timeline.registration_boost(ts) > 1
    channel = rng.choices(USER_CHANNELS, (0.75, 0.2, 0.05) if campaign else USER_CHANNEL_WEIGHTS)[0]
    referrer = None
    if channel != "partner" and rng.random() < (0.5 if campaign else 0.2):
        referrer = people.investors.choice(rng)
    if rng.random() < 0.004 and people.user_ids.last:  # a partner re-sends a registration
        user_id = people.user_ids.prefix + f"{rng.randint(1, people.user_ids.last):06d}"
    else:
        user_id = people.user_ids.next()
    return c.RegisterUser(
        user_id=user_id, channel=channel, referrer=referrer, **envelope(world, user_id)
    )


def deposit(world: World, ts: float, client: Client | None = None) -> c.Command | None:
    client = client or world.population.pick(world.population.investors, world.rng)
    if client is None:
        return None
    rng, channel = world.rng, amounts.payment_channel(world.rng)
    outage = world.timeline.outage(ts)
    if outage is not None and outage.channel == channel:
        if rng.random() < 0.9:  # the channel is down: most give up, some pay another way
            return None
        channel = rng.choice([other for other in PAYMENT_CHANNELS if other != channel])
    amount = amounts.deposit_amount(rng)
    return c.Deposit(
        user_id=client.user_id, amount=amount, channel=channel, **envelope(world, client.user_id)
    )


def invest(world: World, ts: float) -> c.Command | None:
    rng, people = world.rng, world.population
    stale = rng.random() < STALE_VIEW
    if stale and rng.random() < 0.2:
        investor = people.pick(people.unverified, rng)  # invests before KYC is through
    else:
        investor = people.pick(people.with_cash, rng)
    if stale and people.recently_funded and rng.random() < 0.5:
        loan_id: str | None = rng.choice(people.recently_funded)  # already filled meanwhile
    else:
        loan_id = people.listing.choice(rng)
    if investor is None or loan_id is None:
        return None
    loan = people.loans[loan_id]
    available = max(investor.available, amounts.MIN_INVESTMENT)
    believed = loan.remaining if loan.remaining > 0 else loan.amount  # a filled loan: stale
    amount = amounts.investment_amount(rng, available, believed)
    if stale and amount == loan.remaining:  # the listing showed an older, larger need
        amount += amounts.MIN_INVESTMENT
    return c.Invest(
        investor_id=investor.user_id,
        loan_id=loan_id,
        amount=amount,
        **envelope(world, investor.user_id),
    )


def withdraw(world: World, ts: float) -> c.Command | None:
    rng = world.rng
    client = world.population.pick(world.population.with_cash, rng)
    if client is None:
        return None
    amount = amounts.withdrawal_amount(rng, client.available)
    if rng.random() < STALE_VIEW:  # forgets money already held or invested
        amount = client.available + amounts.money(rng.randint(100, 500_000))
    withdrawal_id = world.population.withdrawal_ids.next()
    return c.RequestWithdrawal(
        user_id=client.user_id,
        withdrawal_id=withdrawal_id,
        amount=amount,
        **envelope(world, client.user_id),
    )


def apply_for_loan(world: World, ts: float, client: Client | None = None) -> c.Command | None:
    client = client or world.population.pick(world.population.idle_borrowers, world.rng)
    if client is None or client.persona == INVESTOR or client.open_loan:
        return None
    terms = amounts.loan_terms(world.rng)
    return c.ApplyForLoan(
        loan_id=world.population.loan_ids.next(),
        borrower_id=client.user_id,
        amount=terms.amount,
        term_months=terms.term_months,
        annual_rate=terms.annual_rate,
        product=terms.product,
        **envelope(world, client.user_id),
    )


class Envelope(TypedDict):
    command_id: str
    actor: str
    correlation_id: str | None


def envelope(world: World, actor: str, correlation: str | None = None) -> Envelope:
    """A command's envelope: a seed-derived id, who sends it, the flow it belongs to."""
    return {"command_id": world.command_id(), "actor": actor, "correlation_id": correlation}


_ACTIONS: dict[str, Callable[[World, float], c.Command | None]] = {
    "register": register,
    "deposit": deposit,
    "invest": invest,
    "withdraw": withdraw,
    "apply": apply_for_loan,
}
