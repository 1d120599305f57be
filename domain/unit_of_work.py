"""One transaction's worth of work: an identity map of loaded aggregates and staged events.

Handlers read aggregates through ``get``; ``record`` applies a handler's changes to the
cached aggregates and stages them; ``append`` appends everything with ONE
``append_streams`` call, each stream at the version it was loaded at (optimistic
concurrency); ``save_snapshots`` then saves the snapshots that came due (after the commit:
a snapshot is only a cache). ``commit`` does both.

Loads and the append go through ``session`` (``EventStore.session()``: one connection and
transaction per command attempt on the SQL store); without one, through the store itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from domain.aggregates import Aggregate
from domain.events import DomainEvent
from domain.eventstore import NewEvent, RecordedEvent, StreamAppend
from domain.eventstore.port import StoreSession
from domain.repository import AggregateRepository
from domain.serialization import to_new_event

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    def __init__(
        self, repository: AggregateRepository, session: StoreSession | None = None
    ) -> None:
        self._repository = repository
        self._session: StoreSession = repository.store if session is None else session
        self._aggregates: dict[str, Aggregate] = {}
        self._loaded_at: dict[str, int] = {}  # stream id -> version when loaded (or committed)
        self._staged: dict[str, list[NewEvent]] = {}
        self._written: list[tuple[Aggregate, int]] = []  # appended, snapshots not yet checked

    def get(self, cls: type[A], aggregate_id: str) -> A:
        stream_id = f"{cls.stream_type}-{aggregate_id}"
        aggregate = self._aggregates.get(stream_id)
        if aggregate is None:
            aggregate = self._repository.load(cls, aggregate_id, self._session)
            self._aggregates[stream_id] = aggregate
            self._loaded_at[stream_id] = aggregate.version
        if not isinstance(aggregate, cls):
            raise TypeError(f"{stream_id} holds a {type(aggregate).__name__}, not {cls.__name__}")
        return aggregate

    def record(
        self,
        changes: list[tuple[Aggregate, list[DomainEvent]]],
        metadata: Mapping[str, Any],
        occurred_at: datetime,
    ) -> list[DomainEvent]:
        """Apply and stage a decided command's events (nothing here can reject them)."""
        for aggregate, _ in changes:
            if self._aggregates.get(aggregate.stream_id) is not aggregate:
                raise ValueError(f"{aggregate!r} was not loaded through this unit of work")
        recorded: list[DomainEvent] = []
        for aggregate, events in changes:
            staged = self._staged.setdefault(aggregate.stream_id, [])
            for event in events:
                aggregate.apply(event)
                staged.append(to_new_event(event, occurred_at, metadata))
                recorded.append(event)
        return recorded

    @property
    def aggregates(self) -> list[Aggregate]:
        """Every aggregate loaded through this unit (with its recorded events applied)."""
        return list(self._aggregates.values())

    @property
    def staged_count(self) -> int:
        return sum(len(events) for events in self._staged.values())

    def commit(self, command_id: str | None = None) -> list[RecordedEvent]:
        """``append`` then ``save_snapshots``."""
        recorded = self.append(command_id)
        self.save_snapshots()
        return recorded

    def append(self, command_id: str | None = None) -> list[RecordedEvent]:
        """Append the staged events through the session: one ``append_streams`` call."""
        appends = [
            StreamAppend(
                stream_id,
                self._aggregates[stream_id].stream_type,
                self._loaded_at[stream_id],
                events,
            )
            for stream_id, events in self._staged.items()
            if events
        ]
        if not appends and command_id is None:
            return []
        recorded = self._session.append_streams(appends, command_id=command_id)
        written = [(self._aggregates[a.stream_id], a.expected_version) for a in appends]
        for aggregate, _ in written:
            self._loaded_at[aggregate.stream_id] = aggregate.version
        self._staged.clear()
        self._written += written
        return recorded

    def save_snapshots(self) -> None:
        """Snapshot the appended aggregates that crossed the interval (failures are logged)."""
        written, self._written = self._written, []
        self._repository.save_snapshots(written)
