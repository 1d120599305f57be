"""Rebuilding state as of a moment, and the JSON view the audit page shows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from domain.aggregates import Loan, User, Wallet
from domain.commands import Deposit, Invest, RegisterUser, RequestWithdrawal
from domain.platform import state_at
from tests.unit.domain.scenario import T0, FakeClock, Scenario, approved, deposited, user

D = Decimal


def test_state_at_replays_only_the_events_that_had_occurred(
    scenario: Scenario, clock: FakeClock
) -> None:
    platform = scenario.platform
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    for amount in ("10", "20", "30"):
        clock.advance(hours=1)
        platform.handle(Deposit(user_id="U1", amount=D(amount), channel="alipay"))
    at_two = state_at(scenario.store, "wallet-U1", T0 + timedelta(hours=2))
    assert isinstance(at_two, Wallet)
    assert (at_two.balance, at_two.version) == (D("30"), 2)
    assert state_at(scenario.store, "wallet-U1", T0).exists is False
    now = state_at(scenario.store, "wallet-U1", clock.now)
    assert now.as_dict() == platform.load(Wallet, "U1").as_dict()


def test_state_at_refuses_a_naive_moment(scenario: Scenario) -> None:
    with pytest.raises(ValueError, match="naive"):
        state_at(scenario.store, "wallet-U1", datetime(2024, 1, 1))  # noqa: DTZ001


def test_every_aggregate_has_a_json_ready_view(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "500"), *approved(), *user("B1"))
    scenario.platform.handle(Invest(investor_id="U1", loan_id="L1", amount=D("120.50")))
    scenario.platform.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("9")))
    wallet = scenario.state(Wallet, "U1").as_dict()
    assert json.loads(json.dumps(wallet)) == wallet
    assert wallet["stream_id"] == "wallet-U1"
    assert (wallet["available"], wallet["held"], wallet["balance"]) == ("370.50", "9.00", "379.50")
    loan = scenario.state(Loan, "L1").as_dict()
    assert json.loads(json.dumps(loan)) == loan
    assert (loan["status"], loan["escrow"], loan["remaining"]) == ("approved", "120.50", "879.50")
    assert loan["investments"] == {"U1": "120.50"}
    person = scenario.state(User, "U1").as_dict()
    assert (person["kyc"], person["channel"], person["version"]) == ("verified", "app", 2)
