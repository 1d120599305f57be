"""Windows: rolling (``5m``, ``1h``, ``24h``, any duration) and calendar (``today``,
``yesterday``, ``this_week``, ``this_month``) in the business timezone.

Windows are aligned to the base resolution: a window ending "now" covers whole minutes up
to and including the current one. Comparisons (``previous`` period, ``same time yesterday``)
shift the same window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ingest.metrics.timegrid import MINUTE, floor_to, to_epoch

DURATION = re.compile(r"^(\d+)(s|m|h|d|w)$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
CALENDAR = ("today", "yesterday", "this_week", "this_month")


class WindowError(ValueError):
    """A window or duration that LedgerLens does not understand."""


def parse_duration(text: str) -> int:
    """``30s``, ``5m``, ``1h``, ``7d``, ``2w`` -> seconds."""
    match = DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise WindowError(
            f"bad duration {text!r}: use a positive number with s, m, h, d or w (e.g. 5m, 24h)"
        )
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class Window:
    spec: str

    def __post_init__(self) -> None:
        if self.spec not in CALENDAR:
            try:
                seconds = parse_duration(self.spec)
            except WindowError:
                raise WindowError(
                    f"bad window {self.spec!r}: use a duration in whole minutes (5m, 1h, 24h, "
                    f"7d) or one of {', '.join(CALENDAR)}"
                ) from None
            if seconds % MINUTE:
                raise WindowError(f"window {self.spec!r} must be whole minutes")

    def bounds(self, at: datetime, zone: str) -> tuple[int, int]:
        """[start, end) in epoch seconds for a window ending at ``at``."""
        end = floor_to(to_epoch(at), MINUTE) + MINUTE
        if self.spec not in CALENDAR:
            return end - parse_duration(self.spec), end
        tz = ZoneInfo(zone)
        local = at.astimezone(tz)
        day = local.date()
        if self.spec == "yesterday":
            start_day = day - timedelta(days=1)
            return _midnight(start_day, tz), _midnight(day, tz)
        if self.spec == "this_week":
            start_day = day - timedelta(days=day.weekday())
        elif self.spec == "this_month":
            start_day = day.replace(day=1)
        else:
            start_day = day
        return _midnight(start_day, tz), end

    def previous(self, at: datetime, zone: str) -> tuple[int, int]:
        """The period just before: same length, ending where this one starts."""
        start, end = self.bounds(at, zone)
        return 2 * start - end, start

    def same_time_yesterday(self, at: datetime, zone: str) -> tuple[int, int]:
        """The window ending at the same local clock time one business day earlier (24 h
        earlier, except across a daylight-saving change)."""
        to_epoch(at)  # refuses a naive time
        local = at.astimezone(ZoneInfo(zone))
        return self.bounds(local - timedelta(days=1), zone)  # wall-clock arithmetic


def _midnight(day: object, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp())  # type: ignore[arg-type]


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
