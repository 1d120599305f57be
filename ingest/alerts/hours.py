"""Durations (``5m``, ``0``) and active hours (``09:00-23:00``, business timezone)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from ingest.metrics.windows import WindowError, parse_duration

HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)$")


def duration_seconds(value: Any) -> int:
    """``30s``, ``5m``, ``2h``, ``1d`` (or 0) as whole seconds."""
    if value is None or value == 0 or value == "0":
        return 0
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"bad duration {value!r}: use a number with s, m, h, d or w (e.g. 5m)")
    try:
        return parse_duration(value)
    except WindowError as exc:
        raise ValueError(str(exc)) from None


def parse_hours(spec: str) -> tuple[time, time]:
    """``"09:00-23:00"`` -> (09:00, 23:00); ``"22:00-06:00"`` spans midnight; 24:00 is the end
    of the day."""
    match = HOURS.match(spec.strip())
    if not match:
        raise ValueError(f"bad active_hours {spec!r}: use HH:MM-HH:MM, e.g. 09:00-23:00")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h2 == 24 and m2:
        raise ValueError(f"bad active_hours {spec!r}: the day ends at 24:00")
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if start == end:
        raise ValueError(f"bad active_hours {spec!r}: an empty range (omit it to be always on)")
    return start, end


def within_hours(spec: str, at: datetime, zone: str) -> bool:
    """Whether ``at`` falls in the active hours, read on the business timezone's clock."""
    start, end = parse_hours(spec)
    local = at.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight
