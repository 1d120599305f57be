"""What happens after an accepted event, scheduled at a future simulated time.

KYC is decided minutes after registering; a verified user becomes an investor (and
deposits) or a borrower (and applies); the risk engine decides applications; a funded loan
is disbursed; installments fall due every ``installment_every``; withdrawals are settled by
the payment channel after a delay. ``resume`` schedules the same for a history read back.
"""

from __future__ import annotations

from domain import events as e
from domain.simulator.views import BORROWER, INVESTOR, PENDING
from domain.simulator.world import Due, World

HOUR, DAY = 3600.0, 86400.0
BORROWER_SHARE = 0.1


def react(world: World, event: e.DomainEvent, ts: float, correlation: str | None) -> None:
    """Schedule the follow-ups of one accepted event (``correlation``: its flow's id)."""
    rng, agenda, people = world.rng, world.agenda, world.population
    match event:
        case e.UserRegistered(user_id=user_id):
            if rng.random() < 0.95:  # the rest never finish KYC
                when = world.later(ts, 8 * 60, 1.0, 2 * DAY)
                agenda.add(when, Due("kyc", user_id, correlation=correlation))
        case e.KycVerified(user_id=user_id):
            client = people.client(user_id)
            if client.persona != BORROWER:
                persona = BORROWER if rng.random() < BORROWER_SHARE else INVESTOR
                people.set_persona(client, persona)
            if client.persona == INVESTOR and rng.random() < 0.8:
                agenda.add(world.later(ts, 20 * 60, 1.5, 3 * DAY), Due("deposit", user_id))
            elif client.persona == BORROWER and rng.random() < 0.5:
                agenda.add(world.later(ts, HOUR, 1.2, 3 * DAY), Due("apply", user_id))
        case e.LoanApplied(loan_id=loan_id):
            agenda.add(
                world.later(ts, 25 * 60, 1.0, DAY), Due("decide", loan_id, correlation=correlation)
            )
        case e.LoanFunded(loan_id=loan_id):
            when = world.later(ts, 15 * 60, 0.8, 6 * HOUR)
            agenda.add(
                when, Due("disburse", loan_id, correlation=people.loans[loan_id].correlation)
            )
        case e.LoanDisbursed(loan_id=loan_id) | e.RepaymentReceived(loan_id=loan_id):
            _next_installment(world, loan_id)
        case e.WithdrawalRequested(user_id=user_id, withdrawal_id=withdrawal_id):
            when = world.later(ts, 3 * 60, 1.2, DAY)
            agenda.add(when, Due("withdrawal", user_id, correlation=correlation, ref=withdrawal_id))


def _next_installment(world: World, loan_id: str) -> None:
    view = world.population.loans.get(loan_id)
    if view is not None and view.status == "disbursed" and view.paid < view.term_months:
        due = Due(
            "installment", loan_id, view.paid + 1, base=view.due, correlation=view.correlation
        )
        world.agenda.add(view.due, due)


def resume(world: World, now: float) -> int:
    """Schedule follow-ups for everything still open in a history read back; how many."""
    before, people, rng = len(world.agenda), world.population, world.rng
    for client in people.clients.values():
        if client.kyc == PENDING and rng.random() < 0.5:
            world.agenda.add(world.later(now, 10 * 60, 1.0, DAY), Due("kyc", client.user_id))
        for withdrawal_id in client.holds:
            when = world.later(now, 3 * 60, 1.0, HOUR)
            world.agenda.add(when, Due("withdrawal", client.user_id, ref=withdrawal_id))
    for view in people.loans.values():
        if view.status == "applied":
            world.agenda.add(world.later(now, 10 * 60, 1.0, DAY), Due("decide", view.loan_id))
        elif view.status == "funded":
            world.agenda.add(world.later(now, 10 * 60, 0.8, DAY), Due("disburse", view.loan_id))
        elif view.status == "disbursed" and view.paid < view.term_months:
            due = Due("installment", view.loan_id, view.paid + 1, base=view.due)
            world.agenda.add(max(view.due, now), due)
    return len(world.agenda) - before
