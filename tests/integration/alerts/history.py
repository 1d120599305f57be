"""Real events for the alert tests: deposits and withdrawals minute by minute, appended as
they happen (the store's clock is the test's manual clock)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from domain.events import (
    DomainEvent,
    FundsDeposited,
    WithdrawalFailed,
    WithdrawalRequested,
)
from domain.eventstore import EventStore, StreamAppend
from domain.serialization import to_new_event
from tests.clock import ManualClock

_ids = itertools.count(1)


def minute_of_business(deposits: int, requested: int = 0, failed: int = 0) -> list[DomainEvent]:
    events: list[DomainEvent] = []
    for _ in range(deposits):
        user = f"U{next(_ids):06d}"
        events.append(FundsDeposited(user, Decimal("100.00"), "CNY", "alipay"))
    for index in range(requested):
        user, withdrawal = f"U{next(_ids):06d}", f"W{next(_ids):06d}"
        events.append(WithdrawalRequested(user, withdrawal, Decimal("50.00")))
        if index < failed:
            events.append(WithdrawalFailed(user, withdrawal, Decimal("50.00"), "bank card frozen"))
    return events


def live(
    store: EventStore, clock: ManualClock, start: datetime, minutes: int, **per_minute: int
) -> None:
    """Append ``minutes`` minutes of business from ``start``, each when it happens."""
    for minute in range(minutes):
        moment = start + timedelta(minutes=minute, seconds=30)
        clock.set(max(moment, clock()))
        appends = [
            StreamAppend(f"wallet-X{next(_ids):08d}", "wallet", 0, [to_new_event(event, moment)])
            for event in minute_of_business(**per_minute)
        ]
        store.append_streams(appends)
