"""Realistic CNY figures: heavy-tailed deposits with fen, loan terms by product, shares.

Every amount is built from an integer number of fen, so it is an exact 2-place Decimal.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from domain.aggregates.wallet import PAYMENT_CHANNELS
from domain.money import fen

ROUND_DEPOSITS = (100, 200, 300, 500, 1_000, 2_000, 3_000, 5_000, 10_000, 20_000, 50_000)
CHANNEL_WEIGHTS = (0.22, 0.45, 0.33)  # unionpay, alipay, wechat_pay (PAYMENT_CHANNELS order)
MIN_INVESTMENT = Decimal("100.00")


def money(fen: int) -> Decimal:
    """An exact amount from integer fen: ``money(12345) == Decimal("123.45")``."""
    return Decimal(fen).scaleb(-2)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def deposit_amount(rng: random.Random) -> Decimal:
    """Often a round figure; otherwise log-normal with fen; now and then a whale (Pareto)."""
    draw = rng.random()
    if draw < 0.4:
        return money(100 * rng.choice(ROUND_DEPOSITS))
    if draw < 0.97:
        yuan = _clamp(rng.lognormvariate(math.log(2_500), 1.1), 10, 500_000)
    else:
        yuan = _clamp(20_000 * rng.paretovariate(1.3), 20_000, 5_000_000)
    return money(int(yuan * 100))


def payment_channel(rng: random.Random) -> str:
    return rng.choices(PAYMENT_CHANNELS, CHANNEL_WEIGHTS)[0]


@dataclass(frozen=True)
class LoanTerms:
    product: str
    amount: Decimal
    term_months: int
    annual_rate: Decimal


# product: (share, median yuan, sigma, min, max, rounding yuan, terms, rate range in bp)
_PRODUCTS = {
    "consumer": (0.6, 12_000, 0.7, 1_000, 200_000, 100, (3, 6, 6, 12, 12, 24), (800, 2400)),
    "car": (0.25, 80_000, 0.5, 20_000, 500_000, 500, (12, 24, 24, 36), (500, 1200)),
    "business": (0.15, 150_000, 0.8, 20_000, 2_000_000, 1_000, (6, 12, 24, 36), (600, 1800)),
}


def loan_terms(rng: random.Random) -> LoanTerms:
    names = list(_PRODUCTS)
    product = rng.choices(names, [_PRODUCTS[name][0] for name in names])[0]
    _, median, sigma, low, high, step, terms, (rate_low, rate_high) = _PRODUCTS[product]
    yuan = _clamp(rng.lognormvariate(math.log(median), sigma), low, high)
    amount = money(int(yuan // step) * step * 100)
    rate = Decimal(rng.randrange(rate_low, rate_high + 1, 5)).scaleb(-4)  # e.g. 0.1235
    return LoanTerms(product, amount, rng.choice(terms), rate)


def investment_amount(rng: random.Random, available: Decimal, remaining: Decimal) -> Decimal:
    """What an investor puts in: a good part of their cash in hundreds, capped by the need."""
    share = fen(available) * rng.randint(30, 100) // 100
    amount = money(max(10_000, share // 10_000 * 10_000))  # whole hundreds of yuan, >= 100
    return min(amount, available, remaining)


def withdrawal_amount(rng: random.Random, available: Decimal) -> Decimal:
    if rng.random() < 0.35:
        return available  # cash out everything
    return money(max(100, fen(available) * rng.randint(10, 90) // 100))
