"""How busy the platform is at a moment: the daily cycle and the incidents in force.

The daily curve is busy 09:00-23:00 business time (lunch and evening peaks) and quiet at
night; it averages exactly 1 over a day, so a rate of N events/s means N on average.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.simulator.scenario import MARKETING_CAMPAIGN, PAYMENT_OUTAGE, Incident

# Relative activity at each full hour of the business day; linear in between.
_HOURLY = (
    0.30, 0.18, 0.10, 0.07, 0.06, 0.08, 0.16, 0.35, 0.70,  # 00-08: night, waking up
    1.20, 1.40, 1.50, 1.65, 1.55, 1.40, 1.40, 1.45, 1.50,  # 09-17: office hours, lunch peak
    1.55, 1.70, 1.85, 1.90, 1.70, 1.20,  # 18-23: the evening peak, then winding down
)  # fmt: skip
_MEAN = sum((_HOURLY[h] + _HOURLY[(h + 1) % 24]) / 2 for h in range(24)) / 24


def daily_factor(moment: float | datetime, timezone: ZoneInfo) -> float:
    """Activity at ``moment`` (epoch seconds or aware datetime) relative to the daily mean."""
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    local = datetime.fromtimestamp(moment, timezone)
    hours = local.hour + local.minute / 60 + local.second / 3600
    hour = int(hours)
    weight = hours - hour
    value = _HOURLY[hour] * (1 - weight) + _HOURLY[(hour + 1) % 24] * weight
    return value / _MEAN


@dataclass(frozen=True)
class Window:
    """An incident placed in time, with its drawn severity."""

    kind: str
    start: float
    end: float
    channel: str | None
    strength: float  # outage: share of withdrawals that fail; campaign: registration boost

    def covers(self, ts: float) -> bool:
        return self.start <= ts < self.end


class Timeline:
    """The incidents of a run; relative ones are placed once their anchor is known."""

    def __init__(self, incidents: tuple[Incident, ...], run_start: datetime, rng: random.Random):
        self._incidents = incidents
        self._run_start = run_start
        # Severities are drawn up front, so the same seed gives the same incidents.
        self._strengths = [
            rng.uniform(0.6, 0.9) if i.kind == PAYMENT_OUTAGE else rng.uniform(5.0, 10.0)
            for i in incidents
        ]
        self.windows: list[Window] = []
        self.place(live_start=None)

    def place(self, live_start: datetime | None) -> list[Window]:
        """(Re)place the incidents; call with the live start once it is known."""
        self.windows = []
        for incident, strength in zip(self._incidents, self._strengths, strict=True):
            start = incident.start(self._run_start, live_start)
            if start is not None:
                begin = start.astimezone(UTC).timestamp()
                end = begin + incident.length.total_seconds()
                self.windows.append(Window(incident.kind, begin, end, incident.channel, strength))
        return self.windows

    def outage(self, ts: float) -> Window | None:
        return next((w for w in self.windows if w.kind == PAYMENT_OUTAGE and w.covers(ts)), None)

    def registration_boost(self, ts: float) -> float:
        boosts = [w.strength for w in self.windows if w.kind == MARKETING_CAMPAIGN and w.covers(ts)]
        return max(boosts, default=1.0)
