"""Conditions read like the config says them, and judge values with hysteresis."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest.alerts.conditions import ConditionError, Outcome, parse_condition


def test_a_comparison_takes_its_threshold_inline_or_from_the_threshold_key() -> None:
    assert parse_condition("> 0.1").threshold == parse_condition(">", 0.1).threshold == 0.1
    assert parse_condition(">= 10%").threshold == pytest.approx(0.1)
    assert parse_condition("<", "5%").threshold == pytest.approx(0.05)


def test_a_threshold_given_twice_or_not_at_all_is_refused() -> None:
    with pytest.raises(ConditionError, match="once") as twice:
        parse_condition("> 1", 2)
    assert twice.value.key == "threshold"
    with pytest.raises(ConditionError, match="needs a threshold"):
        parse_condition(">")


def test_an_unreadable_condition_lists_the_forms_it_could_take() -> None:
    with pytest.raises(ConditionError, match="drop > 50%") as caught:
        parse_condition("more than 5")
    assert caught.value.key == "condition"


@pytest.mark.parametrize(
    ("value", "outcome"),
    [(0.11, Outcome.BREACH), (0.10, Outcome.BAND), (0.06, Outcome.BAND), (0.05, Outcome.CLEAR)],
)
def test_above_the_recovery_threshold_but_not_the_threshold_is_the_band(
    value: float, outcome: Outcome
) -> None:
    assert parse_condition("> 10%", recovery="5%").judge(value) is outcome


def test_without_a_recovery_threshold_anything_not_breaching_is_clear() -> None:
    condition = parse_condition("> 0.1")
    assert condition.judge(0.1) is Outcome.CLEAR
    assert condition.judge(Decimal("0.1000001")) is Outcome.BREACH


def test_a_lower_limit_recovers_upwards() -> None:
    condition = parse_condition("< 0.85", recovery=0.9)
    assert [condition.judge(v) for v in (0.8, 0.87, 0.9, 0.95)] == [
        Outcome.BREACH,
        Outcome.BAND,
        Outcome.CLEAR,
        Outcome.CLEAR,
    ]


def test_outside_a_band_breaches_on_either_side_and_recovers_inside_the_inner_band() -> None:
    condition = parse_condition("outside [0.85, 0.99]", recovery=[0.87, 0.97])
    assert [condition.judge(v) for v in (0.8, 0.86, 0.9, 0.98, 0.995)] == [
        Outcome.BREACH,
        Outcome.BAND,
        Outcome.CLEAR,
        Outcome.BAND,
        Outcome.BREACH,
    ]


def test_equal_to_zero_is_a_condition_without_recovery() -> None:
    assert parse_condition("== 0").judge(0) is Outcome.BREACH
    assert parse_condition("== 0").judge(3) is Outcome.CLEAR
    with pytest.raises(ConditionError, match="no recovery"):
        parse_condition("== 0", recovery=1)


def test_a_drop_or_rise_is_judged_on_the_relative_change() -> None:
    drop = parse_condition("drop > 50%", recovery="30%")
    assert drop.is_change and drop.threshold == 0.5
    assert [drop.judge(v) for v in (0.6, 0.4, 0.2)] == [
        Outcome.BREACH,
        Outcome.BAND,
        Outcome.CLEAR,
    ]
    assert parse_condition("rise > 200%").threshold == 2.0


@pytest.mark.parametrize(
    ("condition", "recovery"),
    [("> 0.1", 0.2), ("< 0.5", 0.4), ("drop > 50%", "60%"), ("outside [1, 5]", [0, 4])],
)
def test_a_recovery_threshold_on_the_wrong_side_is_refused(
    condition: str, recovery: object
) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(condition, recovery=recovery)
    assert caught.value.key == "recovery"


def test_a_band_needs_a_pair_and_a_comparison_refuses_one() -> None:
    with pytest.raises(ConditionError, match=r"\[lo, hi\]"):
        parse_condition("outside", 3)
    with pytest.raises(ConditionError, match="outside"):
        parse_condition(">", [1, 2])
    with pytest.raises(ConditionError, match="not a number"):
        parse_condition(">", "lots")
