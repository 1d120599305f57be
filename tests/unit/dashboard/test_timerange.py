from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.timerange import PRESETS, RangeError, custom, preset, shift_days, step_for
from ingest.metrics.timegrid import DAY, HOUR, MINUTE
from ingest.metrics.windows import Window

NOW = datetime(2024, 6, 30, 6, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_covers_the_same_minutes_as_the_query_api_window(name: str):
    span = preset(name, NOW)
    assert (span.start, span.end) == Window(name).bounds(NOW, "Asia/Shanghai")


def test_the_previous_period_has_the_same_length_and_ends_where_the_range_starts():
    span = preset("1h", NOW)
    assert span.previous == (span.start - HOUR, span.start)


def test_yesterday_is_the_same_wall_clock_period_a_business_day_earlier():
    span = preset("1h", NOW)
    assert span.yesterday("Asia/Shanghai") == (span.start - DAY, span.end - DAY)
    ny_spring = int(datetime(2024, 3, 10, 16, 0, tzinfo=UTC).timestamp())  # 12:00 EDT
    assert shift_days(ny_spring, "America/New_York", -1) == ny_spring - DAY + HOUR  # 12:00 EST


def test_a_custom_range_is_cut_to_whole_minutes_and_must_not_end_before_it_starts():
    span = custom(NOW, NOW + timedelta(hours=2, seconds=29))
    assert span.end - span.start == 2 * HOUR
    assert span.start % MINUTE == 0
    with pytest.raises(RangeError, match="end at least a minute after"):
        custom(NOW, NOW + timedelta(seconds=20))


def test_an_unknown_preset_is_refused_with_the_known_ranges():
    with pytest.raises(RangeError, match="15m, 1h, 6h, 24h, 7d, 30d, custom"):
        preset("2h", NOW)


def test_steps_read_minute_buckets_for_short_ranges_and_hours_or_days_for_long_ones():
    assert step_for(PRESETS["15m"]) == "1m"
    assert step_for(PRESETS["6h"]) == "5m"
    assert step_for(PRESETS["24h"]) == "1h"
    assert step_for(PRESETS["7d"]) == "1h"
    assert step_for(PRESETS["30d"]) == "1d"  # the day roll-ups
    assert step_for(365 * DAY) == "1d"
    assert step_for(3 * 365 * DAY) == "7d"
