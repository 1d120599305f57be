"""Active hours are read on the business timezone's clock; durations may be zero."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.alerts.hours import duration_seconds, parse_hours, within_hours

ZONE = "Asia/Shanghai"  # UTC+8


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 4, hour, minute, tzinfo=UTC)


def test_business_hours_are_shanghai_hours_not_utc_hours() -> None:
    assert not within_hours("09:00-23:00", utc(0, 59), ZONE)  # 08:59 in Shanghai
    assert within_hours("09:00-23:00", utc(1, 0), ZONE)  # 09:00
    assert within_hours("09:00-23:00", utc(14, 59), ZONE)  # 22:59
    assert not within_hours("09:00-23:00", utc(15, 0), ZONE)  # 23:00: the end is excluded


def test_a_range_across_midnight_covers_both_sides() -> None:
    assert within_hours("22:00-06:00", utc(15, 0), ZONE)  # 23:00
    assert within_hours("22:00-06:00", utc(21, 0), ZONE)  # 05:00
    assert not within_hours("22:00-06:00", utc(4, 0), ZONE)  # 12:00


def test_the_day_may_end_at_24_00() -> None:
    assert within_hours("18:00-24:00", utc(15, 59), ZONE)  # 23:59


@pytest.mark.parametrize("spec", ["9-23", "09:00-25:00", "09:00-09:00", "24:30-01:00"])
def test_bad_active_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="active_hours"):
        parse_hours(spec)


def test_durations_read_like_windows_and_may_be_zero() -> None:
    assert duration_seconds("5m") == 300
    assert duration_seconds("2h") == 7200
    assert duration_seconds(0) == duration_seconds("0") == 0
    with pytest.raises(ValueError, match="bad duration"):
        duration_seconds("5 minutes")
    with pytest.raises(ValueError, match="bad duration"):
        duration_seconds(300)
