"""The event store port: the public contract that the domain writes and ingest reads."""

from __future__ import annotations

import abc
import heapq
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar

from domain.eventstore.records import (
    START,
    Checkpoint,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)


def stream_type_of(stream_id: str) -> str:
    """Stream ids are ``<type>-<id>`` (``wallet-U000123``); the prefix names the type."""
    prefix, sep, _ = stream_id.partition("-")
    if not sep or not prefix:
        raise ValueError(f"stream id {stream_id!r} is not '<stream_type>-<id>'")
    return prefix


class StoreSession(Protocol):
    """What one unit of work (one command attempt) reads its aggregates through and appends
    through. ``EventStore.session()`` opens one; every ``EventStore`` is one too."""

    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]: ...

    def load_latest(self, stream_id: str) -> tuple[Snapshot | None, list[RecordedEvent]]: ...

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]: ...

    def command_result(self, command_id: str) -> list[RecordedEvent] | None: ...

    @property
    def warm_stamp(self) -> object:
        """Once the session committed: what ``trusts`` takes for the aggregates it loaded
        and appended to (None: nothing to vouch with)."""
        ...

    def trusts(self, stream_id: str, version: int, stamp: object) -> bool:
        """May an aggregate of ``stream_id`` at ``version``, current as of ``stamp`` (an
        earlier session's ``warm_stamp``), be used without reading its stream?"""
        ...


class EventStore(abc.ABC):
    """Append-only, globally ordered log of events, read gap-free by ``read_all``."""

    @classmethod
    def from_url(
        cls, url: str, *, pool_size: int = 5, application_name: str = "ledgerlens"
    ) -> EventStore:
        """Open a store: ``sqlite:///path.db``, ``postgresql+psycopg://…``, or ``memory://``."""
        if url.startswith("memory:"):
            from domain.eventstore.memory import InMemoryEventStore

            return InMemoryEventStore()
        from domain.eventstore.sql import SqlEventStore

        return SqlEventStore.open(url, pool_size=pool_size, application_name=application_name)

    # --- units of work ------------------------------------------------------------------

    def session(self) -> AbstractContextManager[StoreSession]:
        """``with store.session() as session:`` one command attempt's loads and append.

        The SQL store runs them on ONE pooled connection (SQLite: in one ``BEGIN IMMEDIATE``
        transaction committed when the block ends; PostgreSQL: autocommit reads and one
        atomic append statement, committed when ``append_streams`` returns). An error
        before the append appends nothing; make the append the block's last step. This
        default (memory, decorators) is the store itself: each call its own transaction.
        """
        return nullcontext(self)

    # --- writing ------------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        metadata: Mapping[str, Any] | None = None,
        *,
        stream_type: str | None = None,
    ) -> list[RecordedEvent]:
        """Append to one stream whose current version must be ``expected_version``."""
        append = StreamAppend(
            stream_id, stream_type or stream_type_of(stream_id), expected_version, events
        )
        return self.append_streams([append], metadata)

    @abc.abstractmethod
    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]:
        """Append to several streams in one transaction, all or nothing.

        Every distinct ``command_id`` in the events' merged metadata (and ``command_id``
        itself, even with no events) is recorded with the positions of its events, so a
        batch of many commands can go in one transaction. Raises ``ConcurrencyError`` when
        a stream is not at its expected version, and ``DuplicateCommandError`` when a
        command id was already recorded (nothing is appended then; ``command_result``
        gives the first result).
        """

    @abc.abstractmethod
    def command_result(self, command_id: str) -> list[RecordedEvent] | None:
        """The events a handled command appended, or None if it was never handled."""

    # A store used as its own session (``session()`` above) vouches for nothing: a kept
    # aggregate is always read from its version on. (The SQL store's SQLite sessions can.)
    @property
    def warm_stamp(self) -> object:
        return None

    def trusts(self, stream_id: str, version: int, stamp: object) -> bool:
        return False

    # --- reading ------------------------------------------------------------------------

    @abc.abstractmethod
    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        """A stream's events with version > ``after_version``, in version order."""

    def load_latest(self, stream_id: str) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """The stream's newest snapshot (or None) and its events after the snapshot's version
        (all of them without a snapshot): what loading an aggregate needs, in one call."""
        snapshot = self.load_snapshot(stream_id)
        return snapshot, self.load_stream(stream_id, 0 if snapshot is None else snapshot.version)

    @abc.abstractmethod
    def read_all(self, after: Checkpoint = START, limit: int = 1000) -> list[RecordedEvent]:
        """Committed events after ``after`` in global order, never skipping a late commit."""

    @abc.abstractmethod
    def head(self) -> Checkpoint:
        """The checkpoint of the last event that ``read_all`` can return now."""

    def last_committed(self) -> Checkpoint:
        """The checkpoint of the last event committed so far. On PostgreSQL ``read_all`` may
        not return it yet (an older transaction is still running); it will, in order."""
        return self.head()

    @abc.abstractmethod
    def wait_for_new(self, timeout: float, after: Checkpoint | None = None) -> bool:
        """Block until events may have arrived (True) or ``timeout`` seconds pass (False).

        With ``after``, return True at once if the head is already past it.
        """

    # --- snapshots ----------------------------------------------------------------------

    @abc.abstractmethod
    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep the newest snapshot of a stream (an older one never replaces a newer)."""

    @abc.abstractmethod
    def load_snapshot(self, stream_id: str) -> Snapshot | None: ...

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op for stores holding nothing
        """Release every connection the store holds."""

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


T = TypeVar("T")


def in_time_order(runs: Sequence[Sequence[T]], moment: Callable[[T], datetime]) -> list[T]:
    """The events of one transaction's streams (a run each) in the order they get positions:
    merged by business time, each stream's own order kept (ties: the earlier run first).
    So a bulk append of many commands (the simulator's backfill) is stored, and tailed, in
    time order, as live traffic is, not stream by stream."""
    if len(runs) == 1:  # (no runs: an empty merge)
        return list(runs[0])
    return list(heapq.merge(*runs, key=moment))


def command_positions(
    command_id: str | None, metadata: Sequence[Mapping[str, Any]], positions: Sequence[int]
) -> dict[str, list[int]]:
    """Which positions each command appended, from the events' merged metadata."""
    by_command: dict[str, list[int]] = {} if command_id is None else {command_id: []}
    for meta, position in zip(metadata, positions, strict=True):
        owner = meta.get("command_id")
        if owner is not None:
            by_command.setdefault(str(owner), []).append(position)
    return by_command
