"""Money is CNY as Decimal with at most 2 places (fen); never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain.errors import InvalidAmountError

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: Decimal | str | int) -> Decimal:
    """Parse an exact amount. Floats are refused: they cannot hold fen exactly."""
    if isinstance(value, float | bool):
        raise InvalidAmountError(f"amount {value!r} must be a Decimal, str or int, never a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidAmountError(f"amount {value!r} is not a number") from exc
    if not amount.is_finite():
        raise InvalidAmountError(f"amount {value!r} is not a finite number")
    if amount != amount.quantize(FEN):
        raise InvalidAmountError(f"amount {value!r} has more than 2 decimal places (fen)")
    return amount.quantize(FEN)


def positive_money(value: Decimal | str | int, what: str = "amount") -> Decimal:
    amount = to_money(value)
    if amount <= 0:
        raise InvalidAmountError(f"{what} must be positive, got {amount}")
    return amount


def fen(amount: Decimal) -> int:
    """Integer minor units (fen) of an exact amount."""
    return int(amount.quantize(FEN) * 100)
