"""The dashboard's time range: presets ending now, or a custom [from, to), the comparison
periods of a KPI tile, and the series step that keeps a chart on the coarsest roll-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ingest.metrics.timegrid import MINUTE, floor_to, from_epoch, to_epoch

PRESETS: dict[str, int] = {
    "15m": 15 * MINUTE,
    "1h": 3_600,
    "6h": 6 * 3_600,
    "24h": 86_400,
    "7d": 7 * 86_400,
    "30d": 30 * 86_400,
}
CUSTOM = "custom"
RANGES = (*PRESETS, CUSTOM)
# (longest range, step): minute roll-ups up to 12 h, hour roll-ups up to 10 days, then days
# (a 30-day chart reads 30 day rows per dimension value, not 720 hour rows)
STEPS = ((2 * 3_600, "1m"), (12 * 3_600, "5m"), (10 * 86_400, "1h"), (400 * 86_400, "1d"))
LONGEST_STEP = "7d"


class RangeError(ValueError):
    """A custom range that ends before it starts."""


@dataclass(frozen=True)
class TimeRange:
    """[start, end) in epoch seconds, minute-aligned, and the series step that reads it."""

    start: int
    end: int
    label: str

    @property
    def seconds(self) -> int:
        return self.end - self.start

    @property
    def step(self) -> str:
        return step_for(self.seconds)

    @property
    def previous(self) -> tuple[int, int]:
        """The period just before, of the same length."""
        return 2 * self.start - self.end, self.start

    def yesterday(self, zone: str) -> tuple[int, int]:
        """The same wall-clock period one business day earlier."""
        return shift_days(self.start, zone, -1), shift_days(self.end, zone, -1)

    def datetimes(self) -> tuple[datetime, datetime]:
        return from_epoch(self.start), from_epoch(self.end)


def preset(name: str, now: datetime) -> TimeRange:
    """The ``name`` window ending now: whole minutes up to and including the current one
    (the same bounds as ``MetricsQuery.value(metric, name, now)``)."""
    try:
        length = PRESETS[name]
    except KeyError:
        raise RangeError(f"unknown range {name!r} (ranges: {', '.join(RANGES)})") from None
    end = floor_to(to_epoch(now), MINUTE) + MINUTE
    return TimeRange(end - length, end, name)


def custom(start: datetime, end: datetime) -> TimeRange:
    """[start, end) rounded down to whole minutes; both UTC-aware."""
    first, last = floor_to(to_epoch(start), MINUTE), floor_to(to_epoch(end), MINUTE)
    if last <= first:
        raise RangeError("the custom range must end at least a minute after it starts")
    return TimeRange(first, last, CUSTOM)


def step_for(seconds: int) -> str:
    for longest, step in STEPS:
        if seconds <= longest:
            return step
    return LONGEST_STEP


def shift_days(epoch: int, zone: str, days: int) -> int:
    local = from_epoch(epoch).astimezone(ZoneInfo(zone))
    return to_epoch(local + timedelta(days=days))  # wall-clock arithmetic in the zone


def local_datetime(epoch: int, zone: str) -> datetime:
    return from_epoch(epoch).astimezone(ZoneInfo(zone))
