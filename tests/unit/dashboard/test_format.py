from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard import format as fmt


def test_amounts_read_in_yuan_with_thousands_separators_and_fen():
    assert fmt.amount(Decimal("1234567.8")) == "¥1,234,567.80"
    assert fmt.amount(Decimal("-0.5")) == "¥-0.50"


def test_amounts_read_in_wan_or_yi_when_that_unit_is_chosen():
    assert fmt.amount(Decimal("1234567.89"), "wan") == "¥123.46万"
    assert fmt.amount(Decimal("250000000"), "yi") == "¥2.50亿"
    assert fmt.amount(Decimal("123456789012"), "wan") == "¥12,345,678.90万"


def test_auto_amounts_switch_to_wan_from_ten_thousand_and_to_yi_from_a_hundred_million():
    assert fmt.amount(Decimal("9999.99"), "auto") == "¥9,999.99"
    assert fmt.amount(Decimal("10000"), "auto") == "¥1.00万"
    assert fmt.amount(Decimal("100000000"), "auto") == "¥1.00亿"


def test_an_unknown_amount_unit_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="yuan, wan, yi, auto"):
        fmt.amount(Decimal(1), "k")


def test_missing_figures_read_as_a_dash_in_every_unit():
    assert {fmt.figure(None, unit) for unit in ("CNY", "count", "percent", "seconds", "days")} == {
        fmt.NONE
    }


def test_counts_percents_durations_and_days_read_naturally():
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.count(Decimal("12.345")) == "12.35"
    assert fmt.percent(0.12345) == "12.3%"
    assert fmt.duration(0.25) == "250 ms"
    assert fmt.duration(42) == "42.0 s"
    assert fmt.duration(725) == "12m 05s"
    assert fmt.duration(3 * 3600 + 20 * 60) == "3h 20m"
    assert fmt.duration(2 * 86400 + 4 * 3600) == "2d 4h"
    assert fmt.figure(12.34, "days") == "12.3 d"


def test_a_metric_reads_in_its_declared_unit():
    assert fmt.figure(Decimal("15000"), "CNY", "wan") == "¥1.50万"
    assert fmt.figure(0.5, "percent") == "50.0%"
    assert fmt.figure(90, "seconds") == "1m 30s"
    assert fmt.figure(7, "count") == "7"


def test_deltas_are_relative_changes_and_percentage_points_for_percents():
    assert fmt.delta(Decimal(150), Decimal(100), "CNY") == "+50.0%"
    assert fmt.delta(80, 100, "count") == "-20.0%"
    assert fmt.delta(0.25, 0.20, "percent") == "+5.0 pp"


def test_a_delta_from_nothing_is_new_and_nothing_to_compare_is_no_delta():
    assert fmt.delta(5, 0, "count") == "new"
    assert fmt.delta(0, 0, "count") is None
    assert fmt.delta(None, 3, "count") is None
    assert fmt.delta(3, None, "count") is None


def test_local_time_is_business_timezone_wall_clock():
    assert fmt.local_time(0, "Asia/Shanghai") == "1970-01-01 08:00"


def test_counts_of_things_read_singular_for_one_and_plural_otherwise():
    assert fmt.counted(1, "event") == "1 event"
    assert fmt.counted(0, "event") == "0 events"
    assert fmt.counted(2048, "event") == "2,048 events"
