"""Time is always UTC-aware; the clock is injectable so tests and backfills control it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def require_utc(moment: datetime, what: str = "timestamp") -> datetime:
    """Refuse naive datetimes and normalise aware ones to UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} {moment!r} is naive; LedgerLens only accepts UTC-aware datetimes")
    return moment.astimezone(UTC)
