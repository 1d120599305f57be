"""The traffic looks like a lending platform's: the target rate, a daily cycle, incidents."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from domain.eventstore import RecordedEvent
from domain.eventstore.memory import InMemoryEventStore
from domain.simulator.scenario import DEFAULT_BACKFILL_RATE
from domain.simulator.session import Simulation
from domain.simulator.timeline import daily_factor
from tests.unit.simulator.helpers import NOW, all_events, backfill, between

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def outage_run() -> tuple[Simulation, list[RecordedEvent]]:
    """Six hours of history with a payment outage from 4 to 2 hours before NOW."""
    store = InMemoryEventStore()
    simulation = backfill(store, hours=6, incidents=("payment-outage@-4h:2h",))
    return simulation, all_events(store)


def test_a_backfill_writes_about_rate_times_the_daily_curve_of_its_window(outage_run):
    simulation, records = outage_run
    start = NOW - 6 * HOUR
    zone = simulation.scenario.timezone
    minutes = [daily_factor(start + timedelta(minutes=m), zone) for m in range(6 * 60)]
    expected = DEFAULT_BACKFILL_RATE * 6 * 3600 * sum(minutes) / len(minutes)
    assert len(records) == pytest.approx(expected, rel=0.15)


def test_business_hours_are_much_busier_than_the_night():
    store = InMemoryEventStore()
    simulation = backfill(store, hours=24, rate=0.04)  # NOW is 20:00 in Shanghai
    zone = simulation.scenario.timezone
    by_hour = Counter(r.occurred_at.astimezone(zone).hour for r in all_events(store))
    busy = sum(by_hour[h] for h in range(9, 23)) / 14
    night = sum(by_hour[h] for h in range(1, 7)) / 6
    assert busy > 4 * night


def test_a_payment_outage_makes_most_withdrawals_fail_with_channel_timeout(outage_run):
    _, records = outage_run
    start, end = NOW - 4 * HOUR, NOW - 2 * HOUR
    inside = between(records, start, end)
    outside = between(records, NOW - 6 * HOUR, start) + between(records, end, NOW)

    def failure_rate(records: list[RecordedEvent]) -> float:
        done = Counter(r.event_type for r in records)
        failed = done["WithdrawalFailed"]
        return failed / (failed + done["WithdrawalCompleted"])

    assert failure_rate(inside) > 0.5
    assert failure_rate(outside) < 0.1
    reasons = Counter(r.payload["reason"] for r in inside if r.event_type == "WithdrawalFailed")
    assert reasons.most_common(1)[0][0] == "channel timeout"

    def alipay_share(records: list[RecordedEvent]) -> float:
        deposits = [r for r in records if r.event_type == "FundsDeposited"]
        return sum(r.payload["channel"] == "alipay" for r in deposits) / len(deposits)

    assert alipay_share(inside) < alipay_share(outside) / 3


def test_a_marketing_campaign_multiplies_registrations():
    plain, campaign = InMemoryEventStore(), InMemoryEventStore()
    backfill(plain, hours=2, seed=9)
    backfill(campaign, hours=2, seed=9, incidents=("marketing-campaign@-1h:1h",))

    def registrations(store: InMemoryEventStore) -> int:
        records = between(all_events(store), NOW - HOUR, NOW)
        return sum(r.event_type == "UserRegistered" for r in records)

    assert registrations(campaign) > 4 * registrations(plain) > 0


def test_rejected_commands_are_counted_by_error_type_and_never_stop_the_run(outage_run):
    simulation, _ = outage_run
    rejects = simulation.backfill_stats.rejects
    commands = simulation.backfill_stats.commands
    assert {"InsufficientFundsError", "KycRequiredError"} <= set(rejects)
    assert 0 < sum(rejects.values()) < 0.05 * commands


def test_follow_ups_name_their_sender_and_the_flow_they_belong_to(outage_run):
    _, records = outage_run
    requested = {
        r.payload["withdrawal_id"]: r.metadata
        for r in records
        if r.event_type == "WithdrawalRequested"
    }
    settled = [r for r in records if r.event_type in ("WithdrawalCompleted", "WithdrawalFailed")]
    assert settled
    for record in settled:
        request = requested[record.payload["withdrawal_id"]]
        assert request["actor"] == record.payload["user_id"]
        assert record.metadata["actor"] == "payment-channel"
        assert record.metadata["correlation_id"] == request["command_id"]
    applied = {r.payload["loan_id"]: r.metadata for r in records if r.event_type == "LoanApplied"}
    decided = [r for r in records if r.event_type in ("LoanApproved", "LoanRejected")]
    assert decided
    for record in decided:
        assert record.metadata["actor"] == "risk-engine"
        assert record.metadata["correlation_id"] == applied[record.payload["loan_id"]]["command_id"]
