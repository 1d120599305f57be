"""Window bounds in the business timezone: rolling windows end with the current minute,
calendar windows start at local midnight; comparisons shift the same window.

    at = 13:37:45 Shanghai (05:37:45Z)
    5m  |..... 05:33 ....... 05:38)         end = floor_minute(at) + 1 minute
    today [16:00Z the day before .. 05:38)  = local midnight .. end
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.metrics.windows import Window, WindowError, parse_duration

SHANGHAI = "Asia/Shanghai"
BERLIN = "Europe/Berlin"
AT = datetime(2024, 3, 6, 5, 37, 45, tzinfo=UTC)  # Wednesday 13:37:45 in Shanghai


def z(text: str) -> int:
    """Epoch seconds of a UTC time written as ``2024-03-06T05:38``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("1m", "2024-03-06T05:37", "2024-03-06T05:38"),
        ("5m", "2024-03-06T05:33", "2024-03-06T05:38"),
        ("1h", "2024-03-06T04:38", "2024-03-06T05:38"),
        ("24h", "2024-03-05T05:38", "2024-03-06T05:38"),
        ("7d", "2024-02-28T05:38", "2024-03-06T05:38"),
        ("2w", "2024-02-21T05:38", "2024-03-06T05:38"),
        ("today", "2024-03-05T16:00", "2024-03-06T05:38"),
        ("yesterday", "2024-03-04T16:00", "2024-03-05T16:00"),
        ("this_week", "2024-03-03T16:00", "2024-03-06T05:38"),  # Monday 4 March, local
        ("this_month", "2024-02-29T16:00", "2024-03-06T05:38"),
    ],
)
def test_every_window_has_its_bounds_in_shanghai(spec: str, start: str, end: str) -> None:
    assert Window(spec).bounds(AT, SHANGHAI) == (z(start), z(end))


def test_a_rolling_window_includes_the_current_minute_whatever_the_second() -> None:
    on_the_minute = datetime(2024, 3, 6, 5, 37, tzinfo=UTC)
    last_instant = datetime(2024, 3, 6, 5, 37, 59, 999999, tzinfo=UTC)
    assert Window("5m").bounds(on_the_minute, SHANGHAI) == Window("5m").bounds(
        last_instant, SHANGHAI
    )
    assert Window("5m").bounds(on_the_minute, SHANGHAI)[1] == z("2024-03-06T05:38")


def test_today_at_local_midnight_is_its_first_minute() -> None:
    midnight = datetime(2024, 3, 5, 16, 0, tzinfo=UTC)  # 6 March 00:00 in Shanghai
    assert Window("today").bounds(midnight, SHANGHAI) == (
        z("2024-03-05T16:00"),
        z("2024-03-05T16:01"),
    )
    assert Window("yesterday").bounds(midnight, SHANGHAI) == (
        z("2024-03-04T16:00"),
        z("2024-03-05T16:00"),
    )


def test_this_week_starts_on_the_local_monday_even_when_utc_is_still_sunday() -> None:
    monday_morning = datetime(2024, 3, 3, 16, 30, tzinfo=UTC)  # Monday 00:30 Shanghai
    sunday_night = datetime(2024, 3, 3, 15, 59, tzinfo=UTC)  # Sunday 23:59 Shanghai
    assert Window("this_week").bounds(monday_morning, SHANGHAI)[0] == z("2024-03-03T16:00")
    assert Window("this_week").bounds(sunday_night, SHANGHAI)[0] == z("2024-02-25T16:00")


def test_this_month_on_the_first_starts_that_local_midnight() -> None:
    first = datetime(2024, 2, 29, 16, 5, tzinfo=UTC)  # 1 March 00:05 Shanghai
    assert Window("this_month").bounds(first, SHANGHAI) == (
        z("2024-02-29T16:00"),
        z("2024-02-29T16:06"),
    )


# --- a zone with daylight saving time: Europe/Berlin -------------------------------------
# 2024-03-31 02:00 CET -> 03:00 CEST (01:00Z): that Sunday lasts 23 hours.
# 2024-10-27 03:00 CEST -> 02:00 CET (01:00Z): that Sunday lasts 25 hours.


def test_berlin_today_on_the_spring_forward_day_starts_at_cet_midnight() -> None:
    at = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)  # 14:00 CEST
    assert Window("today").bounds(at, BERLIN) == (z("2024-03-30T23:00"), z("2024-03-31T12:01"))


def test_berlin_yesterday_is_23_hours_after_spring_forward_and_25_after_fall_back() -> None:
    after_spring = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
    start, end = Window("yesterday").bounds(after_spring, BERLIN)
    assert (start, end) == (z("2024-03-30T23:00"), z("2024-03-31T22:00"))
    assert end - start == 23 * 3600
    after_fall = datetime(2024, 10, 28, 9, 0, tzinfo=UTC)
    start, end = Window("yesterday").bounds(after_fall, BERLIN)
    assert (start, end) == (z("2024-10-26T22:00"), z("2024-10-27T23:00"))
    assert end - start == 25 * 3600


def test_berlin_this_week_and_this_month_start_at_local_midnight_in_summer_time() -> None:
    at = datetime(2024, 4, 3, 10, 0, tzinfo=UTC)  # Wednesday 3 April, CEST
    assert Window("this_week").bounds(at, BERLIN)[0] == z("2024-03-31T22:00")  # Mon 1 April
    assert Window("this_month").bounds(at, BERLIN)[0] == z("2024-03-31T22:00")


def test_a_rolling_24h_window_across_a_dst_change_is_24_real_hours() -> None:
    at = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
    start, end = Window("24h").bounds(at, BERLIN)
    assert end - start == 24 * 3600
    assert (start, end) == (z("2024-03-30T12:01"), z("2024-03-31T12:01"))


# --- comparisons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("5m", "2024-03-06T05:28", "2024-03-06T05:33"),
        ("1h", "2024-03-06T03:38", "2024-03-06T04:38"),
        ("24h", "2024-03-04T05:38", "2024-03-05T05:38"),
        ("yesterday", "2024-03-03T16:00", "2024-03-04T16:00"),
        # a partial period is compared with the same length just before it
        ("today", "2024-03-05T02:22", "2024-03-05T16:00"),
    ],
)
def test_previous_period_has_the_same_length_and_ends_where_the_window_starts(
    spec: str, start: str, end: str
) -> None:
    assert Window(spec).previous(AT, SHANGHAI) == (z(start), z(end))


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("5m", "2024-03-05T05:33", "2024-03-05T05:38"),
        ("1h", "2024-03-05T04:38", "2024-03-05T05:38"),
        ("today", "2024-03-04T16:00", "2024-03-05T05:38"),  # yesterday up to 13:38 local
        ("this_week", "2024-03-03T16:00", "2024-03-05T05:38"),
    ],
)
def test_same_time_yesterday_shifts_the_window_by_one_day(spec: str, start: str, end: str) -> None:
    assert Window(spec).same_time_yesterday(AT, SHANGHAI) == (z(start), z(end))


def test_same_time_yesterday_keeps_the_local_clock_time_across_a_dst_change() -> None:
    # Sunday 31 March 12:00 CEST (10:00Z); the same clock time on Saturday is 12:00 CET (11:00Z)
    at = datetime(2024, 3, 31, 10, 0, tzinfo=UTC)
    assert Window("today").same_time_yesterday(at, BERLIN) == (
        z("2024-03-29T23:00"),
        z("2024-03-30T11:01"),
    )
    assert Window("1h").same_time_yesterday(at, BERLIN) == (
        z("2024-03-30T10:01"),
        z("2024-03-30T11:01"),
    )


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("7d", 604800), ("2w", 1209600), (" 15m ", 900)],
)
def test_durations_are_parsed_to_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "0m", "-5m", "1.5h", "5 m", "5min", "1y", "5M"])
def test_a_bad_duration_is_refused_with_examples(text: str) -> None:
    with pytest.raises(WindowError, match=r"bad duration .*use a positive number.*e\.g\. 5m"):
        parse_duration(text)


@pytest.mark.parametrize("spec", ["last_week", "Today", "1.5h", "0m", ""])
def test_a_bad_window_is_refused_naming_durations_and_calendar_windows(spec: str) -> None:
    with pytest.raises(WindowError) as refused:
        Window(spec)
    message = str(refused.value)
    assert repr(spec) in message
    assert "5m" in message
    assert "today, yesterday, this_week, this_month" in message


def test_a_window_of_seconds_is_refused_because_buckets_are_whole_minutes() -> None:
    with pytest.raises(WindowError, match="'90s' must be whole minutes"):
        Window("90s")


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Window("5m").bounds(datetime(2024, 3, 6, 5, 37), SHANGHAI)  # noqa: DTZ001


def test_windows_and_comparisons_never_overlap_the_window_itself() -> None:
    for spec in ("5m", "1h", "24h", "yesterday"):
        start, end = Window(spec).bounds(AT, SHANGHAI)
        before_start, before_end = Window(spec).previous(AT, SHANGHAI)
        assert before_end == start and before_start < start
        shifted = Window(spec).same_time_yesterday(AT, SHANGHAI)
        assert shifted == (start - 86400, end - 86400)
