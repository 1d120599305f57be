"""Reading metric inputs from payloads: exact scaled integers, `where` filters, dimensions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingest.config_loader import parse_settings
from ingest.metrics.definitions import EventMetric
from ingest.metrics.values import (
    FieldProblem,
    compile_where,
    dimension,
    read_field,
    scaled_field,
    to_scaled,
)


@pytest.mark.parametrize(
    ("raw", "scale", "expected"),
    [
        ("123.45", 2, 12345),
        ("0.01", 2, 1),
        ("100", 2, 10000),
        ("100.5", 2, 10050),
        ("12.", 2, 1200),
        (".5", 2, 50),
        ("-42.10", 2, -4210),
        ("-0.07", 2, -7),
        ("+3.20", 2, 320),
        ("1e3", 2, 100000),
        ("99999999999999.99", 2, 9999999999999999),  # exact beyond float precision
        ("123.45", 0, 123),
        ("123.4567", 4, 1234567),
        (0, 2, 0),
        (7, 2, 700),
        (-3, 2, -300),
        (45, 0, 45),
        (Decimal("10.25"), 2, 1025),
        (Decimal("-10.25"), 2, -1025),
        (2.5, 2, 250),
    ],
)
def test_exact_numbers_become_scaled_integers(raw: object, scale: int, expected: int) -> None:
    assert to_scaled(raw, scale) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.125", 12),  # half to even: 12.5 -> 12
        ("0.135", 14),  # 13.5 -> 14
        ("0.145", 14),
        ("0.155", 16),
        ("-0.125", -12),
        ("-0.135", -14),
        ("0.1251", 13),  # above half
        ("2.675", 268),  # a decimal string, not the float 2.67499999...
        ("1.004999", 100),
    ],
)
def test_more_decimals_than_the_scale_round_half_to_even(raw: str, expected: int) -> None:
    assert to_scaled(raw, 2) == expected


def test_many_fen_amounts_sum_exactly() -> None:
    amounts = [f"{n}.{n % 100:02d}" for n in range(1, 10_001)]
    assert sum(to_scaled(a, 2) for a in amounts) == int(sum(Decimal(a) for a in amounts) * 100)


@pytest.mark.parametrize("raw", ["abc", "", "1,000.00", "12.3.4", "0x10", "--5", "nan", "inf"])
def test_text_that_is_not_a_finite_number_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        to_scaled(raw, 2)


@pytest.mark.parametrize("raw", [True, False, None, [1], {"amount": 1}, b"12"])
def test_values_of_other_types_are_refused(raw: object) -> None:
    with pytest.raises(TypeError, match="expected a number"):
        to_scaled(raw, 2)


def test_a_missing_or_null_field_is_reported_as_missing() -> None:
    with pytest.raises(FieldProblem) as missing:
        read_field({"user_id": "U1"}, "amount")
    assert missing.value.kind == "missing" and missing.value.field == "amount"
    with pytest.raises(FieldProblem, match="is null"):
        read_field({"amount": None}, "amount")


def test_a_garbled_amount_is_reported_as_invalid() -> None:
    with pytest.raises(FieldProblem) as invalid:
        scaled_field({"amount": "12,50"}, "amount", 2)
    assert invalid.value.kind == "invalid"
    assert "'12,50' is not a number" in str(invalid.value)
    assert scaled_field({"amount": "12.50"}, "amount", 2) == 1250


# --- where ---------------------------------------------------------------------------------


def where_of(yaml_where: str) -> dict[str, object]:
    """The ``where`` mapping as the config loader parses it from YAML."""
    text = (
        "metrics:\n  - name: m\n    kind: count\n    events: [RepaymentOverdue]\n"
        f"    where: {yaml_where}\n"
    )
    metric = parse_settings(text, Path("x.yaml")).metrics[0]
    assert isinstance(metric, EventMetric)
    return dict(metric.where)


def test_no_where_means_no_filter() -> None:
    assert compile_where({}) is None


def test_a_string_condition_matches_equal_strings_only() -> None:
    matches = compile_where(where_of("{product: car}"))
    assert matches is not None
    assert matches({"product": "car"})
    assert not matches({"product": "Car"})
    assert not matches({"product": "consumer"})
    assert not matches({})


def test_a_yaml_integer_matches_a_json_integer_or_its_string() -> None:
    matches = compile_where(where_of("{installment: 3}"))
    assert matches is not None
    assert matches({"installment": 3})
    assert matches({"installment": "3"})
    assert not matches({"installment": 4})
    assert not matches({"installment": "03"})


def test_a_list_condition_matches_any_of_its_values() -> None:
    matches = compile_where(where_of("{product: [car, business], days_past_due: [30, 60]}"))
    assert matches is not None
    assert matches({"product": "car", "days_past_due": 30})
    assert matches({"product": "business", "days_past_due": "60"})
    assert not matches({"product": "consumer", "days_past_due": 30})
    assert not matches({"product": "car", "days_past_due": 31})


def test_a_null_condition_matches_a_missing_or_null_field() -> None:
    matches = compile_where({"referrer": None})
    assert matches is not None
    assert matches({"user_id": "U1"})
    assert matches({"referrer": None})
    assert not matches({"referrer": "U2"})


def test_a_boolean_condition_matches_json_booleans() -> None:
    matches = compile_where({"flag": True})
    assert matches is not None
    assert matches({"flag": True})
    assert not matches({"flag": False})
    assert not matches({"flag": 1})


# --- dimensions ----------------------------------------------------------------------------


def test_the_dimension_is_the_by_field_as_text() -> None:
    assert dimension({"channel": "alipay"}, "channel") == "alipay"
    assert dimension({"installment": 3}, "installment") == "3"
    assert dimension({"channel": "alipay"}, None) == ""


def test_a_missing_dimension_value_is_grouped_as_none() -> None:
    assert dimension({}, "channel") == "(none)"
    assert dimension({"channel": None}, "channel") == "(none)"
