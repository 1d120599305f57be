"""Loading aggregates from the event store: latest usable snapshot + the events after it.

Also ``state_at``: an aggregate's state as of a moment, replayed from its recorded events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from domain.aggregates import AGGREGATE_TYPES, Aggregate
from domain.clock import Clock, require_utc, utc_now
from domain.eventstore import EventStore, RecordedEvent, Snapshot, stream_type_of
from domain.eventstore.port import StoreSession
from domain.serialization import from_recorded

A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)
DEFAULT_WARM_CAPACITY = 10_000  # aggregates kept between commands (0: none)


class AggregateRepository:
    """Reads aggregates; ``snapshot_interval`` 0 turns snapshots off (neither read nor saved).

    Warm aggregates: ``keep`` takes aggregates that match the store up to their version
    (after a commit), up to ``warm_capacity`` of them. ``load`` hands a kept aggregate out
    once (it leaves the cache: its new owner may change it) after reading its stream from
    its version on: the stored event at that version proves the stream reached it (else
    the aggregate is dropped and loaded the usual way), and later events, by any writer,
    are applied. So a load is still one statement, and it sees everything committed.
    Except when the session can vouch that nothing was appended to the stream since the
    aggregate was kept (``trusts``: a SQLite write session, holding the write lock, whose
    store knows every transaction since; ``domain/eventstore/sql_write.py``): then the
    aggregate is used as kept, with no statement.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        snapshot_interval: int = 50,
        clock: Clock = utc_now,
        warm_capacity: int = DEFAULT_WARM_CAPACITY,
    ) -> None:
        if snapshot_interval < 0:
            raise ValueError(f"snapshot_interval must be >= 0, got {snapshot_interval}")
        self.store = store
        self.snapshot_interval = snapshot_interval
        self._clock = clock
        self.warm_capacity = warm_capacity
        # stream id -> (aggregate, the stamp of the session it was committed in); oldest first
        self._warm: dict[str, tuple[Aggregate, object]] = {}
        self._warm_lock = threading.Lock()

    def keep(self, aggregates: Iterable[Aggregate], stamp: object = None) -> None:
        """Keep aggregates whose state is exactly the stored stream up to their version
        (committed, nothing staged) for the next ``load``; the oldest go beyond capacity.
        ``stamp``: the committed session's ``warm_stamp``, if it has one (see ``load``)."""
        if not self.warm_capacity:
            return
        with self._warm_lock:
            warm = self._warm
            for aggregate in aggregates:
                if aggregate.version > 0:
                    warm.pop(aggregate.stream_id, None)
                    warm[aggregate.stream_id] = (aggregate, stamp)
            while len(warm) > self.warm_capacity:
                del warm[next(iter(warm))]

    def load(self, cls: type[A], aggregate_id: str, source: StoreSession | None = None) -> A:
        """The aggregate from its latest usable snapshot and the events after it, read
        through ``source`` (a unit of work's session; by default the store)."""
        reader = self.store if source is None else source
        stream_id = f"{cls.stream_type}-{aggregate_id}"  # Aggregate.stream_id, unbuilt
        if self._warm:
            with self._warm_lock:
                kept = self._warm.pop(stream_id, None)
            warm, stamp = (None, None) if kept is None else kept
            if type(warm) is cls:
                if reader.trusts(stream_id, warm.version, stamp):
                    return warm  # no append to the stream since it was kept (no read needed)
                records = reader.load_stream(stream_id, warm.version - 1)
                if records and records[0].version == warm.version:
                    if len(records) > 1:
                        replay(warm, records[1:])
                    return warm
        aggregate = cls(aggregate_id)
        if not self.snapshot_interval:
            replay(aggregate, reader.load_stream(stream_id))
            return aggregate
        snapshot, records = reader.load_latest(stream_id)
        if snapshot is not None:
            shape = (snapshot.stream_type, snapshot.state_version)
            if shape == (cls.stream_type, cls.state_version):
                aggregate = cls.from_snapshot(aggregate_id, snapshot.version, snapshot.state)
            else:  # a snapshot of another state shape: replay the whole stream
                records = reader.load_stream(stream_id)
        replay(aggregate, records)
        return aggregate

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
