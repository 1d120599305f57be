"""The terms a loan may be applied for: product, term, rate, and an amount that fits the term."""

from __future__ import annotations

from decimal import Decimal

from domain.aggregates.base import require_choice
from domain.aggregates.errors import InvalidCommandError
from domain.money import FEN

PRODUCTS = ("consumer", "business", "car")
MIN_TERM, MAX_TERM = 1, 36
MAX_ANNUAL_RATE = Decimal("0.36")


def check_terms(amount: Decimal, term_months: int, annual_rate: Decimal, product: str) -> None:
    """Raise ``InvalidCommandError`` unless the terms are acceptable (amount already money)."""
    require_choice(product, PRODUCTS, "loan product")
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise InvalidCommandError(f"term_months must be an integer, got {term_months!r}")
    if not MIN_TERM <= term_months <= MAX_TERM:
        raise InvalidCommandError(
            f"term_months must be between {MIN_TERM} and {MAX_TERM}, got {term_months}"
        )
    if not isinstance(annual_rate, Decimal) or not annual_rate.is_finite():
        raise InvalidCommandError(
            f"annual_rate must be a finite Decimal (never a float), got {annual_rate!r}"
        )
    if not 0 < annual_rate <= MAX_ANNUAL_RATE:
        raise InvalidCommandError(
            f"annual_rate must be in (0, {MAX_ANNUAL_RATE}], got {annual_rate}"
        )
    if amount < FEN * term_months:
        raise InvalidCommandError(
            f"amount {amount} is too small for {term_months} monthly installments "
            "(each must repay at least 0.01 of principal)"
        )
