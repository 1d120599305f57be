from __future__ import annotations

import pytest

from domain.aggregates import User
from domain.aggregates.errors import (
    DuplicateUserError,
    InvalidCommandError,
    KycAlreadyDecidedError,
    UnknownUserError,
)
from domain.commands import RegisterUser, RejectKyc, VerifyKyc
from domain.events import KycRejected, KycVerified, UserRegistered
from tests.unit.domain.scenario import Scenario, user


@pytest.mark.parametrize("channel", ["app", "web", "partner"])
def test_a_user_registers_through_a_channel(scenario: Scenario, channel: str) -> None:
    scenario.given().when(RegisterUser(user_id="U1", channel=channel)).then(
        UserRegistered(user_id="U1", channel=channel, referrer=None)
    )
    assert scenario.state(User, "U1").registered


def test_a_user_may_be_referred_by_another(scenario: Scenario) -> None:
    scenario.given(*user("U1")).when(RegisterUser(user_id="U2", channel="web", referrer="U1")).then(
        UserRegistered(user_id="U2", channel="web", referrer="U1")
    )


def test_registering_twice_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1")).when(RegisterUser(user_id="U1", channel="app")).then_raises(
        DuplicateUserError, match="U1 is already registered"
    )


@pytest.mark.parametrize("channel", ["", "email", "APP", None])
def test_registering_through_an_unknown_channel_is_rejected(
    scenario: Scenario, channel: object
) -> None:
    scenario.when(RegisterUser(user_id="U1", channel=channel)).then_raises(  # type: ignore[arg-type]
        InvalidCommandError, match="registration channel must be one of app, web, partner"
    )


@pytest.mark.parametrize("user_id", ["", "U 1", None])
def test_registering_with_a_malformed_user_id_is_rejected(
    scenario: Scenario, user_id: object
) -> None:
    scenario.when(RegisterUser(user_id=user_id, channel="app")).then_raises(  # type: ignore[arg-type]
        InvalidCommandError, match="user_id must be a non-empty string"
    )


def test_a_user_cannot_refer_themselves(scenario: Scenario) -> None:
    scenario.when(RegisterUser(user_id="U1", channel="app", referrer="U1")).then_raises(
        InvalidCommandError, match="cannot refer themselves"
    )


def test_kyc_is_verified(scenario: Scenario) -> None:
    scenario.given(*user("U1", kyc=False)).when(VerifyKyc(user_id="U1")).then(
        KycVerified(user_id="U1")
    )
    assert scenario.state(User, "U1").kyc == "verified"


def test_kyc_is_rejected_with_a_reason(scenario: Scenario) -> None:
    scenario.given(*user("U1", kyc=False)).when(
        RejectKyc(user_id="U1", reason="document expired")
    ).then(KycRejected(user_id="U1", reason="document expired"))
    assert scenario.state(User, "U1").kyc == "rejected"


def test_kyc_rejection_without_a_reason_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1", kyc=False)).when(RejectKyc(user_id="U1", reason="  ")).then_raises(
        InvalidCommandError, match="a reason is required"
    )


@pytest.mark.parametrize("command", [VerifyKyc(user_id="U9"), RejectKyc(user_id="U9", reason="x")])
def test_kyc_of_an_unknown_user_is_rejected(scenario: Scenario, command: VerifyKyc) -> None:
    scenario.given(*user("U1")).when(command).then_raises(UnknownUserError, match="'U9'")


@pytest.mark.parametrize(
    "command", [VerifyKyc(user_id="U1"), RejectKyc(user_id="U1", reason="again")]
)
def test_kyc_decided_twice_is_rejected_after_a_verification(
    scenario: Scenario, command: VerifyKyc
) -> None:
    scenario.given(*user("U1", kyc=True)).when(command).then_raises(
        KycAlreadyDecidedError, match="KYC of user U1 was already verified"
    )


@pytest.mark.parametrize(
    "command", [VerifyKyc(user_id="U1"), RejectKyc(user_id="U1", reason="again")]
)
def test_kyc_decided_twice_is_rejected_after_a_rejection(
    scenario: Scenario, command: VerifyKyc
) -> None:
    scenario.given(*user("U1", kyc=False), KycRejected(user_id="U1", reason="blurred")).when(
        command
    ).then_raises(KycAlreadyDecidedError, match="already rejected")
