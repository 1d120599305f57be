"""An investor's CNY wallet (one per user): deposits, held withdrawals, investments, credits.

``balance`` is all money in the wallet; a pending withdrawal holds part of it, so
``available = balance - held`` is what can be withdrawn or invested.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from domain.aggregates.base import (
    Aggregate,
    decimals,
    encode,
    require_choice,
    require_id,
    require_reason,
)
from domain.aggregates.errors import (
    DuplicateWithdrawalError,
    InsufficientFundsError,
    UnknownWithdrawalError,
    WithdrawalClosedError,
)
from domain.events import (
    DomainEvent,
    FundsDeposited,
    FundsInvested,
    RepaymentCredited,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
)
from domain.money import ZERO

PAYMENT_CHANNELS = ("unionpay", "alipay", "wechat_pay")
CURRENCY = "CNY"
TOTALS = ("deposited", "withdrawn", "invested", "credited_principal", "credited_interest")


class Wallet(Aggregate):
    stream_type: ClassVar[str] = "wallet"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.balance = ZERO
        self.holds: dict[str, Decimal] = {}  # pending withdrawal id -> amount
        self.closed: dict[str, str] = {}  # finished withdrawal id -> "completed" | "failed"
        self.totals: dict[str, Decimal] = dict.fromkeys(TOTALS, ZERO)

    @property
    def held(self) -> Decimal:
        return sum(self.holds.values(), ZERO)

    @property
    def available(self) -> Decimal:
        return self.balance - self.held

    # --- decisions (amounts arrive validated as positive money) -------------------------

    def deposit(self, amount: Decimal, channel: str) -> list[DomainEvent]:
        require_choice(channel, PAYMENT_CHANNELS, "payment channel")
        return [FundsDeposited(user_id=self.id, amount=amount, currency=CURRENCY, channel=channel)]

    def request_withdrawal(self, withdrawal_id: str, amount: Decimal) -> list[DomainEvent]:
        require_id(withdrawal_id, "withdrawal_id")
        if withdrawal_id in self.holds or withdrawal_id in self.closed:
            raise DuplicateWithdrawalError(f"withdrawal {withdrawal_id} of {self.id} exists")
        self._require_available(amount, "withdraw")
        return [WithdrawalRequested(user_id=self.id, withdrawal_id=withdrawal_id, amount=amount)]

    def complete_withdrawal(self, withdrawal_id: str) -> list[DomainEvent]:
        amount = self._pending(withdrawal_id)
        return [WithdrawalCompleted(user_id=self.id, withdrawal_id=withdrawal_id, amount=amount)]

    def fail_withdrawal(self, withdrawal_id: str, reason: str) -> list[DomainEvent]:
        amount = self._pending(withdrawal_id)
        return [
            WithdrawalFailed(
                user_id=self.id,
                withdrawal_id=withdrawal_id,
                amount=amount,
                reason=require_reason(reason),
            )
        ]

    def invest(self, loan_id: str, amount: Decimal) -> list[DomainEvent]:
        self._require_available(amount, "invest")
        return [FundsInvested(user_id=self.id, loan_id=loan_id, amount=amount)]

    def credit_repayment(
        self, loan_id: str, installment: int, principal: Decimal, interest: Decimal
    ) -> list[DomainEvent]:
        """This investor's share of a repayment; the loan decided it, nothing to check."""
        return [RepaymentCredited(self.id, loan_id, installment, principal, interest)]

    def _require_available(self, amount: Decimal, verb: str) -> None:
        if amount > self.available:
            raise InsufficientFundsError(
                f"user {self.id} cannot {verb} {amount}: only {self.available} available "
                f"(balance {self.balance}, held {self.held})"
            )

    def _pending(self, withdrawal_id: str) -> Decimal:
        if withdrawal_id in self.closed:
            raise WithdrawalClosedError(
                f"withdrawal {withdrawal_id} of {self.id} was already {self.closed[withdrawal_id]}"
            )
        if withdrawal_id not in self.holds:
            raise UnknownWithdrawalError(f"user {self.id} has no withdrawal {withdrawal_id!r}")
        return self.holds[withdrawal_id]

    # --- state --------------------------------------------------------------------------

    def when(self, event: DomainEvent) -> None:
        match event:
            case FundsDeposited():
                self.balance += event.amount
                self.totals["deposited"] += event.amount
            case WithdrawalRequested():
                self.holds[event.withdrawal_id] = event.amount
            case WithdrawalCompleted():
                self.holds.pop(event.withdrawal_id, None)
                self.closed[event.withdrawal_id] = "completed"
                self.balance -= event.amount
                self.totals["withdrawn"] += event.amount
            case WithdrawalFailed():
                self.holds.pop(event.withdrawal_id, None)
                self.closed[event.withdrawal_id] = "failed"
            case FundsInvested():
                self.balance -= event.amount
                self.totals["invested"] += event.amount
            case RepaymentCredited():
                self.balance += event.principal + event.interest
                self.totals["credited_principal"] += event.principal
                self.totals["credited_interest"] += event.interest
            case _:
                raise TypeError(f"Wallet cannot apply {type(event).__name__}")

    def to_snapshot(self) -> dict[str, Any]:
        return encode(
            {"balance": self.balance, "holds": self.holds, "closed": self.closed, **self.totals}
        )

    def restore(self, state: dict[str, Any]) -> None:
        self.balance = Decimal(state["balance"])
        self.holds = decimals(state["holds"])
        self.closed = dict(state["closed"])
        self.totals = {name: Decimal(state[name]) for name in TOTALS}

    def derived(self) -> dict[str, Any]:
        return {"available": self.available, "held": self.held}
