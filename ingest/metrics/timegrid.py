"""Event-time buckets: minutes and hours in UTC, days at business-timezone midnight.

Every bucket is identified by its start as integer epoch seconds (integer keys cost a
tenth of truncating datetimes per event; see shared PERFORMANCE.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTE = 60
HOUR = 3600
DAY = 86400
RESOLUTIONS = (MINUTE, HOUR, DAY)


@lru_cache(maxsize=65536)
def business_day_start(hour_start: int, zone: str) -> int:
    """Epoch seconds of the business-day midnight containing ``hour_start``."""
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(hour_start, UTC).astimezone(tz)
    midnight = datetime.combine(local.date(), time(0), tzinfo=tz)
    return int(midnight.timestamp())


def next_business_day(day_start: int, zone: str) -> int:
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(day_start, UTC).astimezone(tz).date() + timedelta(days=1)
    return int(datetime.combine(local, time(0), tzinfo=tz).timestamp())


def floor_to(epoch: int, size: int) -> int:
    return epoch - epoch % size


def ceil_to(epoch: int, size: int) -> int:
    return -((-epoch) // size) * size


def tile(start: int, end: int, zone: str) -> list[tuple[int, int, int]]:
    """Cover [start, end) (minute-aligned) with (resolution, from, to) pieces, coarsest first.

    Whole business days are read from day buckets, whole hours from hour buckets, the
    rest from minute buckets, so a 30-day window reads about 30 + 2*24 + 2*60 rows.
    """
    if start >= end:
        return []
    first_hour, last_hour = ceil_to(start, HOUR), floor_to(end, HOUR)
    if first_hour >= last_hour:
        return [(MINUTE, start, end)]
    pieces = [(MINUTE, start, first_hour), (MINUTE, last_hour, end)]
    first_day = business_day_start(first_hour, zone)
    if first_day < first_hour:
        first_day = next_business_day(first_day, zone)
    last_day = business_day_start(last_hour, zone)
    aligned = first_day % HOUR == 0 and last_day % HOUR == 0
    if aligned and first_hour <= first_day < last_day <= last_hour:
        pieces += [(HOUR, first_hour, first_day), (DAY, first_day, last_day),
                   (HOUR, last_day, last_hour)]  # fmt: skip
    else:
        pieces.append((HOUR, first_hour, last_hour))
    return [piece for piece in pieces if piece[1] < piece[2]]


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} is naive; use UTC-aware datetimes")
    return int(moment.timestamp())


def from_epoch(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
