"""``tile`` covers a window with the coarsest buckets that fit: whole business days from
day buckets, whole hours from hour buckets, the rest from minute buckets.

    10:17 ... 11:00 ......... 00:00 (local) ......... 00:00 ......... 03:00 ... 03:42
    |-minutes-|-----hours-----|-------one day--------|-----hours------|-minutes-|
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.metrics.timegrid import (
    DAY,
    HOUR,
    MINUTE,
    business_day_start,
    floor_to,
    next_business_day,
    tile,
)

ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC")
FIRST = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp()) // MINUTE
LAST = int(datetime(2026, 12, 31, tzinfo=UTC).timestamp()) // MINUTE


def is_day_start(epoch: int, zone: str) -> bool:
    return business_day_start(floor_to(epoch, HOUR), zone) == epoch


def holds_a_whole_day(start: int, end: int, zone: str) -> bool:
    day = business_day_start(start, zone)
    if day < start:
        day = next_business_day(day, zone)
    return next_business_day(day, zone) <= end


def check_tiling(start: int, end: int, zone: str) -> None:
    pieces = tile(start, end, zone)
    ordered = sorted(pieces, key=lambda piece: piece[1])
    assert all(a < b for _, a, b in pieces), "every piece is non-empty"
    assert ordered[0][1] == start and ordered[-1][2] == end
    for (_, _, previous_end), (_, next_start, _) in itertools.pairwise(ordered):
        assert previous_end == next_start, "pieces meet without gap or overlap"
    for resolution, a, b in pieces:
        assert resolution in (MINUTE, HOUR, DAY)
        if resolution == MINUTE:
            assert a % MINUTE == 0 and b % MINUTE == 0
            assert b - a < 2 * HOUR, "minute buckets only for the ragged ends"
        elif resolution == HOUR:
            assert a % HOUR == 0 and b % HOUR == 0
            assert not holds_a_whole_day(a, b, zone), "whole days come from day buckets"
        else:
            assert is_day_start(a, zone) and is_day_start(b, zone)
    assert sum(1 for r, _, _ in pieces if r == MINUTE) <= 2


@settings(max_examples=400, deadline=None)
@given(
    first=st.integers(FIRST, LAST),
    minutes=st.integers(1, 60 * 24 * 40),
    zone=st.sampled_from(ZONES),
)
def test_tile_covers_any_minute_aligned_range_exactly_once(
    first: int, minutes: int, zone: str
) -> None:
    check_tiling(first * MINUTE, (first + minutes) * MINUTE, zone)


@settings(max_examples=200, deadline=None)
@given(
    day=st.sampled_from(["2024-03-30", "2024-03-31", "2024-10-26", "2024-10-27"]),
    offset=st.integers(-60 * 30, 60 * 30),
    minutes=st.integers(1, 60 * 80),
)
def test_tile_is_exact_around_berlin_dst_changes(day: str, offset: int, minutes: int) -> None:
    base = int(datetime.fromisoformat(f"{day}T00:00+00:00").timestamp()) + offset * MINUTE
    check_tiling(base, base + minutes * MINUTE, "Europe/Berlin")


def test_an_empty_or_inverted_range_has_no_pieces() -> None:
    assert tile(600, 600, "Asia/Shanghai") == []
    assert tile(1200, 600, "Asia/Shanghai") == []


def test_a_range_within_one_hour_is_read_from_minute_buckets() -> None:
    start = int(datetime(2024, 3, 6, 5, 7, tzinfo=UTC).timestamp())
    assert tile(start, start + 40 * MINUTE, "Asia/Shanghai") == [
        (MINUTE, start, start + 40 * MINUTE)
    ]


def test_two_local_days_and_ragged_ends_read_few_buckets() -> None:
    # 2024-03-04 10:17 Shanghai (02:17Z) .. 2024-03-07 03:42 Shanghai (2024-03-06T19:42Z)
    start = int(datetime(2024, 3, 4, 2, 17, tzinfo=UTC).timestamp())
    end = int(datetime(2024, 3, 6, 19, 42, tzinfo=UTC).timestamp())
    hour = 3600
    eleven = start + 43 * MINUTE  # 03:00Z = 11:00 local
    midnight_5th = int(datetime(2024, 3, 4, 16, tzinfo=UTC).timestamp())
    midnight_7th = int(datetime(2024, 3, 6, 16, tzinfo=UTC).timestamp())
    assert sorted(tile(start, end, "Asia/Shanghai"), key=lambda p: p[1]) == [
        (MINUTE, start, eleven),
        (HOUR, eleven, midnight_5th),
        (DAY, midnight_5th, midnight_7th),
        (HOUR, midnight_7th, midnight_7th + 3 * hour),
        (MINUTE, midnight_7th + 3 * hour, end),
    ]


def test_business_days_follow_local_midnight_across_dst() -> None:
    spring = int(datetime(2024, 3, 30, 23, tzinfo=UTC).timestamp())  # Sun 31 March, Berlin
    assert next_business_day(spring, "Europe/Berlin") - spring == 23 * 3600
    fall = int(datetime(2024, 10, 26, 22, tzinfo=UTC).timestamp())  # Sun 27 October, Berlin
    assert next_business_day(fall, "Europe/Berlin") - fall == 25 * 3600
    assert business_day_start(spring + 5 * 3600, "Europe/Berlin") == spring
