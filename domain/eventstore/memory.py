"""An in-memory event store for unit tests: the same contract, no database."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from domain.clock import Clock, require_utc, utc_now
from domain.eventstore.port import EventStore, command_positions, in_time_order
from domain.eventstore.records import (
    START,
    Checkpoint,
    ConcurrencyError,
    DuplicateCommandError,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)


class InMemoryEventStore(EventStore):
    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._events: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._commands: dict[str, list[int]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._changed = threading.Condition()

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]:
        meta = dict(metadata or {})
        if command_id is not None:
            meta.setdefault("command_id", command_id)
        with self._changed:
            if len({a.stream_id for a in appends}) != len(appends):
                raise ValueError("append_streams got the same stream twice; merge its events")
            for append in appends:
                actual = len(self._streams.get(append.stream_id, ()))
                if actual != append.expected_version:
                    raise ConcurrencyError(append.stream_id, append.expected_version, actual)
            recorded_at = require_utc(self._clock(), "recorded_at")
            tx_id = (self._events[-1].tx_id + 1) if self._events else 1
            runs = [
                [(append, offset, new, require_utc(
                    recorded_at if new.occurred_at is None else new.occurred_at, "occurred_at"))
                 for offset, new in enumerate(append.events, start=1)]
                for append in appends
            ]  # fmt: skip
            recorded: list[RecordedEvent] = []
            for append, offset, new, occurred in in_time_order(runs, itemgetter(3)):
                extra = new.metadata
                recorded.append(
                    RecordedEvent(
                        position=len(self._events) + len(recorded) + 1,
                        tx_id=tx_id,
                        stream_id=append.stream_id,
                        stream_type=append.stream_type,
                        version=append.expected_version + offset,
                        event_type=new.event_type,
                        schema_version=new.schema_version,
                        occurred_at=occurred,
                        recorded_at=recorded_at,
                        payload=dict(new.payload),
                        metadata=dict(meta) if extra is None else {**meta, **extra},
                    )
                )
            owners = command_positions(
                command_id, [e.metadata for e in recorded], [e.position for e in recorded]
            )
            for owner in owners:
                if owner in self._commands:
                    raise DuplicateCommandError(owner)
            for event in recorded:
                self._events.append(event)
                self._streams.setdefault(event.stream_id, []).append(event)
            self._commands.update(owners)
            self._changed.notify_all()
        return recorded

    def command_result(self, command_id: str) -> list[RecordedEvent] | None:
        with self._changed:
            positions = self._commands.get(command_id)
            return None if positions is None else [self._events[p - 1] for p in positions]

    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        with self._changed:
            return list(self._streams.get(stream_id, ())[after_version:])

    def read_all(self, after: Checkpoint = START, limit: int = 1000) -> list[RecordedEvent]:
        with self._changed:
            return self._events[after.position : after.position + limit]

    def head(self) -> Checkpoint:
        with self._changed:
            return self._events[-1].checkpoint if self._events else START

    def wait_for_new(self, timeout: float, after: Checkpoint | None = None) -> bool:
        with self._changed:
            baseline = after if after is not None else self.head()
            return self._changed.wait_for(lambda: self.head() > baseline, timeout)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        require_utc(snapshot.taken_at, "taken_at")  # the SQL stores refuse naive times too
        with self._changed:
            current = self._snapshots.get(snapshot.stream_id)
            if current is None or current.version < snapshot.version:
                self._snapshots[snapshot.stream_id] = snapshot

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        with self._changed:
            return self._snapshots.get(stream_id)
