from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.simulator.scenario import parse_incident
from domain.simulator.timeline import Timeline, daily_factor

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIDNIGHT = datetime(2024, 5, 1, tzinfo=SHANGHAI)


def at(hour: float, zone: ZoneInfo = SHANGHAI) -> float:
    return (datetime(2024, 5, 1, tzinfo=zone) + timedelta(hours=hour)).timestamp()


def test_the_daily_curve_averages_one_over_a_day():
    minutes = [daily_factor(at(m / 60), SHANGHAI) for m in range(24 * 60)]
    assert sum(minutes) / len(minutes) == pytest.approx(1.0, abs=0.002)


def test_business_hours_are_busy_and_nights_are_quiet():
    busy = [daily_factor(at(h + 0.5), SHANGHAI) for h in range(9, 23)]
    night = [daily_factor(at(h + 0.5), SHANGHAI) for h in range(1, 7)]
    assert min(busy) > 1.0 > 0.3 > max(night)
    assert min(busy) / max(night) > 5


def test_the_curve_follows_the_business_timezone_not_utc():
    nine_pm_shanghai = at(21)  # 13:00 UTC
    assert daily_factor(nine_pm_shanghai, SHANGHAI) > 1.5
    assert daily_factor(nine_pm_shanghai, ZoneInfo("America/Los_Angeles")) < 0.5  # 06:00 there
    assert daily_factor(datetime.fromtimestamp(nine_pm_shanghai, UTC), SHANGHAI) == (
        daily_factor(nine_pm_shanghai, SHANGHAI)
    )


def test_relative_incidents_are_placed_once_the_live_start_is_known():
    run_start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    incidents = (
        parse_incident("payment-outage@+5m:10m"),
        parse_incident("marketing-campaign@-1d:2h"),
    )
    timeline = Timeline(incidents, run_start, random.Random(1))
    yesterday = (run_start - timedelta(days=1)).timestamp()
    assert [w.kind for w in timeline.windows] == ["marketing-campaign"]
    assert 5 <= timeline.registration_boost(yesterday + 60) <= 10
    assert timeline.registration_boost(yesterday + 3 * 3600) == 1.0

    live = run_start + timedelta(minutes=2)
    timeline.place(live)
    outage_start = (live + timedelta(minutes=5)).timestamp()
    assert timeline.outage(outage_start - 1) is None
    window = timeline.outage(outage_start)
    assert window is not None and window.channel == "alipay"
    assert 0.6 <= window.strength <= 0.9
    assert timeline.outage(outage_start + 600) is None  # the window is half-open
