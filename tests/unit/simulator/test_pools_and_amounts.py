from __future__ import annotations

import random
import statistics
from collections import Counter
from decimal import Decimal

from domain.aggregates.loan_rules import check_terms
from domain.simulator import amounts
from domain.simulator.pools import IdCounter, Pool


def test_a_pool_adds_discards_and_picks_only_its_members():
    pool = Pool()
    for key in ("a", "b", "c", "b"):
        pool.add(key)
    pool.discard("a")
    pool.discard("zzz")  # absent: nothing happens
    pool.toggle("d", True)
    pool.toggle("c", False)
    rng = random.Random(1)
    picks = Counter(pool.choice(rng) for _ in range(2_000))
    assert len(pool) == 2 and "b" in pool and "a" not in pool
    assert set(picks) == {"b", "d"} and min(picks.values()) > 800
    assert Pool().choice(rng) is None


def test_id_counters_continue_after_the_ids_already_seen():
    counter = IdCounter("U", 6)
    for seen in ("U000007", "U000003", "X000999", "Ualice"):
        counter.saw(seen)
    assert [counter.next(), counter.next()] == ["U000008", "U000009"]


def test_deposits_are_exact_fen_amounts_with_a_heavy_tail():
    rng = random.Random(3)
    deposits = [amounts.deposit_amount(rng) for _ in range(5_000)]
    assert all(d > 0 and d == d.quantize(Decimal("0.01")) for d in deposits)
    assert any(d != d.to_integral_value() for d in deposits)  # fen, not only round yuan
    assert max(deposits) > 20 * statistics.median(deposits)


def test_loan_terms_are_what_the_platform_accepts():
    rng = random.Random(4)
    terms = [amounts.loan_terms(rng) for _ in range(2_000)]
    for t in terms:
        check_terms(t.amount, t.term_months, t.annual_rate, t.product)  # raises if not
    assert {t.product for t in terms} == {"consumer", "car", "business"}


def test_an_investment_fits_the_cash_and_the_loans_need():
    rng = random.Random(5)
    for _ in range(1_000):
        available = amounts.money(rng.randint(10_000, 10_000_000))
        remaining = amounts.money(rng.randint(1, 50_000_000))
        amount = amounts.investment_amount(rng, available, remaining)
        assert Decimal("0") < amount <= min(available, remaining)
        assert amount % 100 == 0 or amount in (available, remaining)


def test_a_withdrawal_never_exceeds_the_available_cash():
    rng = random.Random(6)
    for _ in range(1_000):
        available = amounts.money(rng.randint(10_000, 10_000_000))
        assert Decimal("0.01") <= amounts.withdrawal_amount(rng, available) <= available
