"""Repayment arithmetic of a loan, exact to the fen.

* Principal: equal per installment, rounded down to the fen; the last installment takes the
  remainder, so the installments sum to the loan amount exactly.
* Interest: outstanding principal before the installment * annual_rate / 12, half-up to fen.
* Investors' shares: pro rata by what each invested, rounded down to the fen, the remainder
  to the largest investor (the earliest one on a tie), so the shares sum exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.money import FEN, fen

MONTHS = Decimal(12)


@dataclass(frozen=True)
class Installment:
    number: int  # 1-based
    principal: Decimal
    interest: Decimal
    outstanding_before: Decimal


def installment(
    amount: Decimal, term_months: int, annual_rate: Decimal, number: int
) -> Installment:
    if not 1 <= number <= term_months:
        raise ValueError(f"installment {number} is outside 1..{term_months}")
    base = Decimal(fen(amount) // term_months) * FEN
    outstanding = amount - base * (number - 1)
    principal = base if number < term_months else outstanding
    interest = (outstanding * annual_rate / MONTHS).quantize(FEN, rounding=ROUND_HALF_UP)
    return Installment(number, principal, interest, outstanding)


def schedule(amount: Decimal, term_months: int, annual_rate: Decimal) -> list[Installment]:
    return [installment(amount, term_months, annual_rate, n) for n in range(1, term_months + 1)]


def split_pro_rata(total: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Split ``total`` by ``weights`` (positive amounts, in insertion order), summing exactly."""
    if not weights:
        raise ValueError("nothing to split among: no weights")
    whole = sum(fen(weight) for weight in weights.values())
    total_fen = fen(total)
    shares = {key: total_fen * fen(weight) // whole for key, weight in weights.items()}
    largest = max(weights, key=lambda key: weights[key])  # max() keeps the first on a tie
    shares[largest] += total_fen - sum(shares.values())
    return {key: Decimal(share) * FEN for key, share in shares.items()}
