"""The two loops. Backfill: simulated time from the past up to a moment, commands handled in
chunks of one transaction each (``platform.batch``) with a clock that reads simulated time.
Live: wall-clock time, one ``platform.handle`` per command, paced to the target rate.

A rejected command (``DomainError``; in live mode also a ``ConcurrencyError`` after the
platform's retries) is counted by error type and the run goes on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.errors import DomainError
from domain.eventstore import ConcurrencyError, EventStore
from domain.platform import bootstrap
from domain.serialization import from_recorded
from domain.simulator.stats import Stats
from domain.simulator.traffic import Traffic

MAX_LAG = 5.0  # live: client arrivals more than this many seconds late are dropped


class SimulatedClock:
    """The platform's clock during a backfill: whatever simulated moment the runner set."""

    def __init__(self, ts: float) -> None:
        self.ts = ts

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)


def backfill(
    traffic: Traffic,
    store: EventStore,
    until: float,
    stats: Stats,
    *,
    chunk: int = 2_000,
    on_chunk: Callable[[float], Any] | None = None,
) -> None:
    """Write the traffic from ``traffic.now`` up to ``until`` (epoch seconds), ``chunk``
    commands per transaction; ``on_chunk(simulated_now)`` runs after each commit."""
    clock = SimulatedClock(traffic.now)
    platform = bootstrap(store, clock=clock)
    done = False
    while not done:
        with platform.batch(skip_handled=False) as batch:
            for _ in range(chunk):
                step = traffic.next_step(until)
                if step is None:
                    done = True
                    break
                clock.ts = step.ts
                try:
                    events = batch.handle(step.command)
                except DomainError as error:
                    stats.rejected(error)
                    continue
                traffic.accepted(step, events)
                stats.accepted(events)
        if on_chunk is not None:
            on_chunk(traffic.now)
    traffic.now = max(traffic.now, until)


def live(
    traffic: Traffic,
    store: EventStore,
    stats: Stats,
    *,
    rate: float,
    duration: float | None,
    report_every: float = 5.0,
    out: Callable[[str], Any] = print,
    wall: Callable[[], float] = time.time,
) -> None:
    """Handle commands as their (wall-clock) time comes, for ``duration`` seconds or forever."""
    platform = bootstrap(store)
    start = wall()
    traffic.retarget(rate, start)
    end = math.inf if duration is None else start + duration
    next_report = start + report_every
    while True:
        now = wall()
        if now >= end:
            return
        if now >= next_report:
            out(stats.progress_line())
            next_report = max(next_report + report_every, now)
        ahead = traffic.next_time() - now
        if ahead > 0:
            time.sleep(min(ahead, end - now, next_report - now))
            continue
        stats.behind(-ahead)
        if -ahead > MAX_LAG:
            traffic.skip_to(now)
        step = traffic.next_step(now)
        if step is None:
            continue
        try:
            recorded = platform.handle(step.command)
        except (DomainError, ConcurrencyError) as error:
            stats.rejected(error)
            continue
        events = [from_recorded(record) for record in recorded]
        traffic.accepted(step, events)
        stats.accepted(events)
