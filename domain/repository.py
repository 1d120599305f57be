"""Loading aggregates from the event store: latest usable snapshot + the events after it.

Also ``state_at``: an aggregate's state as of a moment, replayed from its recorded events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from domain.aggregates import AGGREGATE_TYPES, Aggregate
from domain.clock import Clock, require_utc, utc_now
from domain.eventstore import EventStore, RecordedEvent, Snapshot, stream_type_of
from domain.serialization import from_recorded

A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)


class AggregateRepository:
    """Reads aggregates; ``snapshot_interval`` 0 turns snapshots off (neither read nor saved)."""

    def __init__(
        self, store: EventStore, *, snapshot_interval: int = 50, clock: Clock = utc_now
    ) -> None:
        if snapshot_interval < 0:
            raise ValueError(f"snapshot_interval must be >= 0, got {snapshot_interval}")
        self.store = store
        self.snapshot_interval = snapshot_interval
        self._clock = clock

    def load(self, cls: type[A], aggregate_id: str) -> A:
        aggregate = self._from_snapshot(cls, aggregate_id) or cls(aggregate_id)
        replay(aggregate, self.store.load_stream(aggregate.stream_id, aggregate.version))
        return aggregate

    def _from_snapshot(self, cls: type[A], aggregate_id: str) -> A | None:
        if not self.snapshot_interval:
            return None
        snapshot = self.store.load_snapshot(cls(aggregate_id).stream_id)
        if (
            snapshot is None
            or snapshot.stream_type != cls.stream_type
            or snapshot.state_version != cls.state_version
        ):
            return None  # a snapshot of another state shape: replay the whole stream
        return cls.from_snapshot(aggregate_id, snapshot.version, snapshot.state)

    def save_snapshots(self, written: Iterable[tuple[Aggregate, int]]) -> None:
        """Snapshot each aggregate whose version crossed a multiple of the interval.

        ``written`` pairs an aggregate (already holding its appended events) with its version
        before the append. Called after a successful append: a failure is logged, not raised,
        because the command did succeed and a snapshot is only a cache.
        """
        interval = self.snapshot_interval
        for aggregate, before in written:
            if not interval or aggregate.version // interval == before // interval:
                continue
            snapshot = Snapshot(
                stream_id=aggregate.stream_id,
                stream_type=aggregate.stream_type,
                version=aggregate.version,
                state_version=aggregate.state_version,
                state=aggregate.to_snapshot(),
                taken_at=require_utc(self._clock(), "taken_at"),
            )
            try:
                self.store.save_snapshot(snapshot)
            except Exception:
                log.warning("could not save snapshot of %s", aggregate.stream_id, exc_info=True)


def replay(aggregate: Aggregate, records: Iterable[RecordedEvent]) -> None:
    for record in records:
        aggregate.apply(from_recorded(record))
        aggregate.version = record.version


def aggregate_for(stream_id: str) -> Aggregate:
    """An empty aggregate of the stream's type (``wallet-U1`` -> ``Wallet("U1")``)."""
    stream_type = stream_type_of(stream_id)
    cls = AGGREGATE_TYPES.get(stream_type)
    if cls is None:
        raise ValueError(f"no aggregate type for stream {stream_id!r}")
    return cls(stream_id[len(stream_type) + 1 :])


def state_at(store: EventStore, stream_id: str, at: datetime) -> Aggregate:
    """The aggregate as it stood at ``at``: every event with ``occurred_at <= at`` applied."""
    moment = require_utc(at, "at")
    aggregate = aggregate_for(stream_id)
    replay(aggregate, (r for r in store.load_stream(stream_id) if r.occurred_at <= moment))
    return aggregate
