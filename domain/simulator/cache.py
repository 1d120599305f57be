"""The event store with the aggregates this process touches kept in memory: a write-through
cache that makes bulk writing fast (a platform load is then no database round trip).

It decorates the real store. An aggregate is loaded once through the domain's own
repository, then kept current by applying exactly the events appended through this store.
Loads of a cached aggregate are answered as a snapshot at its version plus no later events.
If another writer appended to a cached stream meanwhile, the platform's append fails its
version check (``ConcurrencyError``): the streams involved are evicted and reloaded on retry.

``know_streams(ids)`` says which streams existed when the store was read back in full;
any other stream is then known to be empty without asking the database (a stream created
by another writer since is caught by the same version check, and then loaded for real).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from domain.aggregates import Aggregate
from domain.events import DomainEvent
from domain.eventstore import (
    START,
    Checkpoint,
    EventStore,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)
from domain.repository import AggregateRepository, aggregate_for, replay

DEFAULT_CAPACITY = 100_000  # aggregates; the least recently used beyond are dropped


class CachingStore(EventStore):
    def __init__(self, inner: EventStore, *, capacity: int = DEFAULT_CAPACITY) -> None:
        self.inner = inner
        self.capacity = capacity
        self._loader = AggregateRepository(inner)
        self._cache: OrderedDict[str, Aggregate] = OrderedDict()
        self._existing: set[str] | None = None  # None: any stream may exist

    def remember(self, record: RecordedEvent, event: DomainEvent) -> None:
        """Warm up on a stored history read in order (``event`` is ``record`` decoded)."""
        cached = self._cache.get(record.stream_id)
        if cached is None and record.version == 1 and len(self._cache) < self.capacity:
            cached = self._cache[record.stream_id] = aggregate_for(record.stream_id)
        if cached is not None and cached.version == record.version - 1:
            cached.apply(event)
            cached.version = record.version
        elif cached is not None:  # a gap: let the repository load it properly
            del self._cache[record.stream_id]

    def know_streams(self, existing: set[str]) -> None:
        """Every stream that exists now (read back from the store just before)."""
        self._existing = set(existing)

    def _aggregate(self, stream_id: str) -> Aggregate:
        aggregate = self._cache.get(stream_id)
        if aggregate is not None:
            self._cache.move_to_end(stream_id)
            return aggregate
        aggregate = aggregate_for(stream_id)
        if self._existing is None or stream_id in self._existing:
            aggregate = self._loader.load(type(aggregate), aggregate.id)
        self._cache[stream_id] = aggregate
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return aggregate

    # --- the cached paths ---------------------------------------------------------------

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        aggregate = self._aggregate(stream_id)
        if not aggregate.exists:
            return None
        return Snapshot(
            stream_id=stream_id,
            stream_type=aggregate.stream_type,
            version=aggregate.version,
            state_version=aggregate.state_version,
            state=aggregate.to_snapshot(),
            taken_at=datetime.now(UTC),
        )

    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        cached = self._cache.get(stream_id)
        if cached is not None and after_version >= cached.version:
            return []
        return self.inner.load_stream(stream_id, after_version)

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]:
        try:
            recorded = self.inner.append_streams(appends, metadata, command_id=command_id)
        except BaseException:
            for append in appends:  # whatever happened, reload these streams next time
                self._cache.pop(append.stream_id, None)
                self._seen(append.stream_id)
            raise
        for record in recorded:
            self._seen(record.stream_id)
            cached = self._cache.get(record.stream_id)
            if cached is None:
                continue
            if cached.version == record.version - 1:
                replay(cached, [record])
            else:  # not the next event of what we hold: do not guess
                del self._cache[record.stream_id]
        return recorded

    def _seen(self, stream_id: str) -> None:
        if self._existing is not None:
            self._existing.add(stream_id)

    # --- delegated ----------------------------------------------------------------------

    def command_result(self, command_id: str) -> list[RecordedEvent] | None:
        return self.inner.command_result(command_id)

    def read_all(self, after: Checkpoint = START, limit: int = 1000) -> list[RecordedEvent]:
        return self.inner.read_all(after, limit)

    def head(self) -> Checkpoint:
        return self.inner.head()

    def wait_for_new(self, timeout: float, after: Checkpoint | None = None) -> bool:
        return self.inner.wait_for_new(timeout, after)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self.inner.save_snapshot(snapshot)

    def close(self) -> None:
        self._cache.clear()
        self.inner.close()
