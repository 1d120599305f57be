"""The event store: ``from domain.eventstore import EventStore``; ``EventStore.from_url(url)``."""

from domain.eventstore.port import EventStore, stream_type_of
from domain.eventstore.records import (
    START,
    Checkpoint,
    ConcurrencyError,
    DuplicateCommandError,
    EventStoreError,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)

__all__ = [
    "START",
    "Checkpoint",
    "ConcurrencyError",
    "DuplicateCommandError",
    "EventStore",
    "EventStoreError",
    "NewEvent",
    "RecordedEvent",
    "Snapshot",
    "StreamAppend",
    "stream_type_of",
]
