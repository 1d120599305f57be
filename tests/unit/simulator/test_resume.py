"""A second run on the same store continues the same clients instead of starting over."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from domain.eventstore.memory import InMemoryEventStore
from tests.unit.simulator.helpers import NOW, all_events, backfill


def test_a_second_run_continues_after_the_stored_history_with_new_ids():
    store = InMemoryEventStore()
    every = timedelta(minutes=10)
    backfill(store, hours=1.5, now=NOW - timedelta(hours=1), installment_every=every)
    first = all_events(store)
    second_run = backfill(store, hours=3, now=NOW, installment_every=every)  # overlaps
    second = all_events(store)[len(first) :]

    assert second and second[0].occurred_at >= first[-1].occurred_at  # no rewritten past
    registered = Counter(
        r.payload["user_id"] for r in all_events(store) if r.event_type == "UserRegistered"
    )
    assert max(registered.values()) == 1
    command_ids = Counter(r.metadata["command_id"] for r in all_events(store))
    assert len(command_ids) > 1_000  # ids unique: the store refuses a repeated one
    first_loans = {r.payload["loan_id"] for r in first if r.event_type == "LoanDisbursed"}
    repaid_later = {r.payload["loan_id"] for r in second if r.event_type == "RepaymentReceived"}
    assert first_loans & repaid_later  # loans of the first run are repaid in the second
    first_users = {r.payload["user_id"] for r in first if r.event_type == "UserRegistered"}
    active_later = {r.payload.get("user_id") for r in second} & first_users
    assert len(active_later) > len(first_users) / 4
    assert second_run.backfill_stats.rejects["DuplicateUserError"] < 20
