from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.aggregates.schedule import installment, schedule, split_pro_rata

D = Decimal
fen_amounts = st.integers(min_value=1, max_value=10**9).map(lambda f: D(f) / 100)


def test_principal_is_equal_per_installment_and_the_last_takes_the_remainder() -> None:
    rows = schedule(D("1000.00"), 3, D("0.12"))
    assert [r.principal for r in rows] == [D("333.33"), D("333.33"), D("333.34")]
    assert [r.outstanding_before for r in rows] == [D("1000.00"), D("666.67"), D("333.34")]
    assert [r.interest for r in rows] == [D("10.00"), D("6.67"), D("3.33")]


def test_interest_is_rounded_half_up_to_the_fen() -> None:
    assert installment(D("1.00"), 1, D("0.06"), 1).interest == D("0.01")  # 0.005 -> 0.01
    assert installment(D("1.00"), 1, D("0.05"), 1).interest == D("0.00")  # 0.00416 -> 0.00


def test_an_installment_outside_the_term_is_refused() -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.3"):
        installment(D("1000.00"), 3, D("0.1"), 4)


@settings(max_examples=200, deadline=None)
@given(amount=fen_amounts, term=st.integers(1, 36))
def test_the_principal_of_a_schedule_sums_to_the_loan_amount(amount: Decimal, term: int) -> None:
    if amount < D("0.01") * term:
        return
    rows = schedule(amount, term, D("0.1"))
    assert sum(r.principal for r in rows) == amount
    assert all(r.principal > 0 and r.interest >= 0 for r in rows)


def test_shares_are_pro_rata_with_the_remainder_to_the_largest_investor() -> None:
    shares = split_pro_rata(D("333.33"), {"U2": D("400.00"), "U1": D("600.00")})
    assert shares == {"U2": D("133.33"), "U1": D("200.00")}


def test_on_a_tie_the_remainder_goes_to_the_earliest_investor() -> None:
    shares = split_pro_rata(D("0.03"), {"A": D("5"), "B": D("5")})
    assert shares == {"A": D("0.02"), "B": D("0.01")}


def test_splitting_among_nobody_is_refused() -> None:
    with pytest.raises(ValueError, match="no weights"):
        split_pro_rata(D("1.00"), {})


@settings(max_examples=200, deadline=None)
@given(total=fen_amounts, weights=st.lists(fen_amounts, min_size=1, max_size=8))
def test_shares_sum_exactly_and_stay_within_a_fen_of_pro_rata(
    total: Decimal, weights: list[Decimal]
) -> None:
    named = {f"U{i}": weight for i, weight in enumerate(weights)}
    shares = split_pro_rata(total, named)
    assert sum(shares.values()) == total
    whole = sum(weights)
    largest = max(named, key=lambda k: named[k])
    for key, share in shares.items():
        assert share >= 0 and share == share.quantize(D("0.01"))
        exact = total * named[key] / whole
        if key != largest:
            assert exact - D("0.01") < share <= exact
