"""Reading back what the store already holds, so a new run continues the same clients:
their balances, open loans (whose installments keep falling due) and pending withdrawals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.events import DomainEvent
from domain.eventstore import START, EventStore, RecordedEvent
from domain.serialization import from_recorded
from domain.simulator.world import World

PAGE = 5_000


@dataclass(frozen=True)
class History:
    events: int
    last_occurred: datetime | None
    streams: set[str]  # every stream id in the store
    unreadable: int = 0  # events of unknown types or shapes (another writer's), skipped


def read_back(
    world: World,
    store: EventStore,
    also: Callable[[RecordedEvent, DomainEvent], object] | None = None,
) -> History:
    """Fold every stored event into the world's population (before anything is scheduled),
    and hand each to ``also`` (the cache warms up on them)."""
    after, count, unreadable, last = START, 0, 0, None
    streams: set[str] = set()
    population = world.population
    while True:
        records = store.read_all(after, limit=PAGE)
        if not records:
            return History(count, last, streams, unreadable)
        for record in records:
            streams.add(record.stream_id)
            try:
                event = from_recorded(record)
            except ValueError:  # EventDecodingError, UpcastError
                unreadable += 1
                continue
            correlation = record.metadata.get("correlation_id")
            population.apply(event, record.occurred_at.timestamp(), correlation)
            if also is not None:
                also(record, event)
            if last is None or record.occurred_at > last:
                last = record.occurred_at
        count += len(records)
        after = records[-1].checkpoint
