"""Sketch accuracy, measured against exact figures.

Quantile convention (the sketch's and the exact one): the value at 0-based rank
``floor(q * (n - 1))`` of the sorted values (the "lower" method). The sketch returns a value
within 1% of it by construction; the documented bound is 2%.
"""

from __future__ import annotations

import math
import random

import pytest

from ingest.metrics.sketches import DistinctSketch, QuantileSketch, merge_distinct

QS = (0.5, 0.9, 0.95, 0.99)
BOUND = 0.02


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def sketch_of(values: list[float]) -> QuantileSketch:
    sketch = QuantileSketch()
    for value in values:
        sketch.add(value)
    return sketch


def uniform(rng: random.Random, n: int) -> list[float]:
    return [rng.uniform(1, 10_000) for _ in range(n)]


def lognormal(rng: random.Random, n: int) -> list[float]:
    return [rng.lognormvariate(math.log(2_500), 1.1) for _ in range(n)]


def with_zeros(rng: random.Random, n: int) -> list[float]:
    """Settlement times: 30% instant (0 s), the rest log-normal around a minute."""
    return [0.0 if rng.random() < 0.3 else rng.lognormvariate(math.log(60), 1.5) for _ in range(n)]


def small_integers(rng: random.Random, n: int) -> list[float]:
    """Days past due: whole days 1..120, many ties."""
    return [float(rng.randint(1, 120)) for _ in range(n)]


DISTRIBUTIONS = [uniform, lognormal, with_zeros, small_integers]


def relative_error(estimate: float, exact: float) -> float:
    if exact == 0:
        return 0.0 if estimate == 0 else math.inf
    return abs(estimate - exact) / abs(exact)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=lambda d: d.__name__)
@pytest.mark.parametrize("n", [1, 7, 1_000, 50_000])
def test_quantiles_are_within_two_percent_of_the_exact_ones(distribution, n: int) -> None:
    values = distribution(random.Random(n), n)
    sketch = sketch_of(values)
    for q in QS:
        estimate = sketch.quantile(q)
        assert estimate is not None
        exact = exact_quantile(values, q)
        assert relative_error(estimate, exact) <= BOUND, (q, estimate, exact)


def test_the_worst_measured_quantile_error_is_about_one_percent() -> None:
    """What docs/metrics.md quotes: the largest error over the distributions above."""
    worst = 0.0
    for distribution in DISTRIBUTIONS:
        values = distribution(random.Random(3), 20_000)
        sketch = sketch_of(values)
        for q in QS:
            estimate = sketch.quantile(q)
            assert estimate is not None
            worst = max(worst, relative_error(estimate, exact_quantile(values, q)))
    assert worst <= 0.0101


def test_merged_sketches_answer_exactly_like_one_sketch_of_all_values() -> None:
    rng = random.Random(7)
    values = lognormal(rng, 30_000) + with_zeros(rng, 10_000)
    rng.shuffle(values)
    parts = [sketch_of(values[i::3]) for i in range(3)]
    merged = QuantileSketch()
    for part in parts:
        merged.merge(part)
    single = sketch_of(values)
    assert merged.count == single.count == len(values)
    assert merged.zeros == single.zeros
    assert merged.bins == single.bins
    for q in (0.01, *QS):
        assert merged.quantile(q) == single.quantile(q)


def test_a_quantile_sketch_survives_a_round_trip_through_bytes() -> None:
    sketch = sketch_of(with_zeros(random.Random(11), 5_000))
    restored = QuantileSketch.from_bytes(sketch.to_bytes())
    assert (restored.count, restored.zeros, restored.bins) == (
        sketch.count,
        sketch.zeros,
        sketch.bins,
    )
    for q in QS:
        assert restored.quantile(q) == sketch.quantile(q)


def test_an_empty_quantile_sketch_has_no_quantile() -> None:
    assert QuantileSketch().quantile(0.5) is None
    assert QuantileSketch.from_bytes(QuantileSketch().to_bytes()).quantile(0.95) is None


def test_one_value_is_every_quantile_within_one_percent() -> None:
    sketch = sketch_of([42.0])
    for q in QS:
        estimate = sketch.quantile(q)
        assert estimate is not None and relative_error(estimate, 42.0) <= 0.01


# --- distinct counts -----------------------------------------------------------------------


def distinct_of(values: list[str]) -> DistinctSketch:
    sketch = DistinctSketch()
    for value in values:
        sketch.add(value)
    return sketch


@pytest.mark.parametrize("distinct", [10, 1_000, 100_000])
def test_distinct_counts_are_within_two_percent(distinct: int) -> None:
    ids = [f"U{n:07d}" for n in range(distinct)]
    repeated = ids + ids[: distinct // 2]  # investors invest more than once
    random.Random(distinct).shuffle(repeated)
    estimate = distinct_of(repeated).estimate()
    assert relative_error(estimate, distinct) <= BOUND, estimate
    if distinct <= 1_000:
        assert round(estimate) == distinct  # small sets are counted exactly


def test_the_union_of_overlapping_sets_counts_shared_members_once() -> None:
    first = [f"U{n:07d}" for n in range(0, 60_000)]
    second = [f"U{n:07d}" for n in range(40_000, 100_000)]
    a, b = distinct_of(first), distinct_of(second)
    union_bytes = merge_distinct([a.to_bytes(), b.to_bytes()])
    a.merge(b)
    assert relative_error(a.estimate(), 100_000) <= BOUND
    assert relative_error(union_bytes, 100_000) <= BOUND
    assert a.estimate() == pytest.approx(union_bytes, rel=1e-9)


def test_a_distinct_sketch_survives_a_round_trip_through_bytes() -> None:
    sketch = distinct_of([f"I{n}" for n in range(5_000)])
    restored = DistinctSketch.from_bytes(sketch.to_bytes())
    assert restored.estimate() == sketch.estimate()
    restored.add("I0")  # already counted
    assert restored.estimate() == sketch.estimate()


def test_merging_no_distinct_sketches_counts_zero() -> None:
    assert merge_distinct([]) == 0.0
