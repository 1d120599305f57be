"""A hand-driven clock for tests: ``from tests.clock import ManualClock``.

It satisfies ``domain.clock.Clock`` (a callable returning a UTC-aware datetime), so it can be
injected wherever production code takes ``clock=``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from domain.clock import require_utc

DEFAULT_START = datetime(2024, 1, 15, 9, 30, tzinfo=UTC)


class ManualClock:
    """Time stands still until ``advance`` or ``set`` moves it; always UTC-aware."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = require_utc(start, "start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def __call__(self) -> datetime:
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (never backward) and return the new time."""
        if delta < timedelta(0):
            raise ValueError(f"a clock does not run backward (advance by {delta})")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment`` (UTC-aware; earlier than now is refused)."""
        moment = require_utc(moment, "moment")
        with self._lock:
            if moment < self._now:
                raise ValueError(f"a clock does not run backward ({moment} < {self._now})")
            self._now = moment
            return moment


FrozenClock = ManualClock  # a frozen clock is a manual clock nobody advances
