from __future__ import annotations

from decimal import Decimal

import pytest

from domain.aggregates import Wallet
from domain.aggregates.errors import (
    DuplicateWithdrawalError,
    InsufficientFundsError,
    InvalidAmountError,
    InvalidCommandError,
    UnknownUserError,
    UnknownWithdrawalError,
    WithdrawalClosedError,
)
from domain.commands import CompleteWithdrawal, Deposit, FailWithdrawal, RequestWithdrawal
from domain.events import (
    FundsDeposited,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
)
from tests.unit.domain.scenario import Scenario, deposited, user

D = Decimal


def requested(withdrawal_id: str, amount: str) -> WithdrawalRequested:
    return WithdrawalRequested(user_id="U1", withdrawal_id=withdrawal_id, amount=D(amount))


@pytest.mark.parametrize("channel", ["unionpay", "alipay", "wechat_pay"])
def test_a_deposit_credits_the_wallet_in_cny(scenario: Scenario, channel: str) -> None:
    scenario.given(*user("U1")).when(Deposit(user_id="U1", amount=D("100.50"), channel=channel))
    scenario.then(FundsDeposited(user_id="U1", amount=D("100.50"), currency="CNY", channel=channel))
    assert scenario.state(Wallet, "U1").available == D("100.50")


def test_an_integer_or_string_amount_is_taken_exactly(scenario: Scenario) -> None:
    scenario.given(*user("U1")).when(Deposit(user_id="U1", amount=7, channel="alipay"))  # type: ignore[arg-type]
    scenario.then(deposited("U1", "7.00"))


def test_a_deposit_needs_no_kyc(scenario: Scenario) -> None:
    scenario.given(*user("U1", kyc=False)).when(
        Deposit(user_id="U1", amount=D("5"), channel="wechat_pay")
    ).then(deposited("U1", "5.00", "wechat_pay"))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("0"), "must be positive"),
        (D("-10.00"), "must be positive"),
        (D("10.001"), "more than 2 decimal places"),
        (10.5, "never a float"),
        ("ten", "is not a number"),
        (D("NaN"), "not a finite number"),
    ],
)
def test_a_deposit_of_a_bad_amount_is_rejected(
    scenario: Scenario, amount: object, message: str
) -> None:
    scenario.given(*user("U1")).when(Deposit(user_id="U1", amount=amount, channel="alipay"))  # type: ignore[arg-type]
    scenario.then_raises(InvalidAmountError, match=message)


def test_a_deposit_through_an_unknown_payment_channel_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1")).when(Deposit(user_id="U1", amount=D("1"), channel="paypal"))
    scenario.then_raises(InvalidCommandError, match="payment channel must be one of unionpay")


def test_a_deposit_for_an_unknown_user_is_rejected(scenario: Scenario) -> None:
    scenario.when(Deposit(user_id="U9", amount=D("1"), channel="alipay")).then_raises(
        UnknownUserError, match="unknown user 'U9'"
    )


def test_a_withdrawal_request_holds_the_funds(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00")).when(
        RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("30.00"))
    ).then(requested("W1", "30.00"))
    wallet = scenario.state(Wallet, "U1")
    assert (wallet.balance, wallet.held, wallet.available) == (D("100"), D("30"), D("70"))


def test_withdrawing_more_than_the_balance_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00")).when(
        RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("100.01"))
    ).then_raises(InsufficientFundsError, match="only 100.00 available")


def test_withdrawing_more_than_is_available_beside_a_hold_is_rejected(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), requested("W1", "60.00")).when(
        RequestWithdrawal(user_id="U1", withdrawal_id="W2", amount=D("40.01"))
    ).then_raises(InsufficientFundsError, match=r"only 40.00 available \(balance 100.00, held 60")


@pytest.mark.parametrize("amount", [D("0"), D("-1"), D("0.001"), 1.0])
def test_a_withdrawal_of_a_bad_amount_is_rejected(scenario: Scenario, amount: object) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00")).when(
        RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=amount)  # type: ignore[arg-type]
    ).then_raises(InvalidAmountError)


def test_a_withdrawal_for_an_unknown_user_is_rejected(scenario: Scenario) -> None:
    scenario.when(RequestWithdrawal(user_id="U9", withdrawal_id="W1", amount=D("1"))).then_raises(
        UnknownUserError
    )


def test_a_withdrawal_id_cannot_be_reused(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), requested("W1", "10.00")).when(
        RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("10.00"))
    ).then_raises(DuplicateWithdrawalError, match="withdrawal W1 of U1 exists")


def test_a_completed_withdrawal_leaves_the_wallet(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), requested("W1", "30.00")).when(
        CompleteWithdrawal(user_id="U1", withdrawal_id="W1")
    ).then(WithdrawalCompleted(user_id="U1", withdrawal_id="W1", amount=D("30.00")))
    wallet = scenario.state(Wallet, "U1")
    assert (wallet.balance, wallet.held, wallet.available) == (D("70"), D("0"), D("70"))


def test_a_failed_withdrawal_releases_the_hold(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), requested("W1", "30.00")).when(
        FailWithdrawal(user_id="U1", withdrawal_id="W1", reason="bank rejected")
    ).then(
        WithdrawalFailed(
            user_id="U1", withdrawal_id="W1", amount=D("30.00"), reason="bank rejected"
        )
    )
    wallet = scenario.state(Wallet, "U1")
    assert (wallet.balance, wallet.held, wallet.available) == (D("100"), D("0"), D("100"))


@pytest.mark.parametrize(
    "command",
    [
        CompleteWithdrawal(user_id="U1", withdrawal_id="W9"),
        FailWithdrawal(user_id="U1", withdrawal_id="W9", reason="x"),
    ],
)
def test_an_unknown_withdrawal_cannot_be_closed(scenario: Scenario, command: object) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), requested("W1", "30.00"))
    scenario.when(command).then_raises(UnknownWithdrawalError, match="no withdrawal 'W9'")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("closing", "status"),
    [
        (WithdrawalCompleted(user_id="U1", withdrawal_id="W1", amount=D("30.00")), "completed"),
        (
            WithdrawalFailed(user_id="U1", withdrawal_id="W1", amount=D("30.00"), reason="r"),
            "failed",
        ),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        CompleteWithdrawal(user_id="U1", withdrawal_id="W1"),
        FailWithdrawal(user_id="U1", withdrawal_id="W1", reason="again"),
    ],
)
def test_a_withdrawal_cannot_be_closed_twice(
    scenario: Scenario, closing: object, status: str, command: object
) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), requested("W1", "30.00"), closing)  # type: ignore[arg-type]
    scenario.when(command).then_raises(  # type: ignore[arg-type]
        WithdrawalClosedError, match=f"withdrawal W1 of U1 was already {status}"
    )


def test_failing_a_withdrawal_needs_a_reason(scenario: Scenario) -> None:
    scenario.given(*user("U1"), deposited("U1", "100.00"), requested("W1", "30.00")).when(
        FailWithdrawal(user_id="U1", withdrawal_id="W1", reason="")
    ).then_raises(InvalidCommandError, match="a reason is required")


@pytest.mark.parametrize(
    "command",
    [
        CompleteWithdrawal(user_id="U9", withdrawal_id="W1"),
        FailWithdrawal(user_id="U9", withdrawal_id="W1", reason="x"),
    ],
)
def test_closing_a_withdrawal_of_an_unknown_user_is_rejected(
    scenario: Scenario, command: object
) -> None:
    scenario.when(command).then_raises(UnknownUserError)  # type: ignore[arg-type]
