"""Applying one batch inside the group's transaction, isolating failing events.

The whole batch is tried under a savepoint; if the handler refuses it, the batch is split
in halves (left first, so order holds) until the failing events stand alone. Each one then
meets the group's error policy:

- ``dead_letter``: park it and every later event of its stream; other streams go on;
- ``skip``: record it as skipped (visible, counted) and go on;
- ``retry``: stop there; what came before it commits, the group backs off and tries again.

A database failure is never a handler failure: it aborts the batch unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from domain.events import EVENT_TYPES
from domain.eventstore import RecordedEvent
from domain.serialization import upcast_record
from ingest import dead_letters
from ingest.failures import HandlerFailedError, is_infrastructure_error
from ingest.projection import Projection
from ingest.settings import ErrorPolicy


@dataclass(frozen=True)
class Outcome:
    consumed: int  # a prefix of the batch, to commit with its checkpoint
    failure: HandlerFailedError | None


CURRENT_VERSIONS = {name: cls.schema_version for name, cls in EVENT_TYPES.items()}


def upcast_all(events: Sequence[RecordedEvent]) -> Sequence[RecordedEvent]:
    """Every record at its type's current schema version (the same list when all are)."""
    current = CURRENT_VERSIONS
    behind = [
        i for i, e in enumerate(events)
        if current.get(e.event_type, e.schema_version) != e.schema_version
    ]  # fmt: skip
    if not behind:
        return events
    lifted = list(events)
    for i in behind:
        lifted[i] = upcast_record(lifted[i])
    return lifted


class BatchApplier:
    def __init__(
        self,
        group: str,
        projection: Projection,
        policy: ErrorPolicy,
        *,
        exclude: Callable[[Connection, Sequence[RecordedEvent]], set[int]] | None = None,
    ) -> None:
        self.group = group
        self.projection = projection
        self.policy = policy
        self._exclude = exclude
        self.skipped = 0
        self.parked = 0

    def apply(self, conn: Connection, events: Sequence[RecordedEvent], generation: int) -> Outcome:
        """Apply ``events`` in ``conn``'s transaction and say how many are consumed.

        Under the retry policy a failing event ends the batch: the events before it are
        consumed (the caller commits them with their checkpoint) and the failure is returned.
        """
        excluded = self._exclude(conn, events) if self._exclude else set()
        todo = [e for e in events if e.position not in excluded] if excluded else events
        parked: dict[str, int] = {}
        if self.policy == "dead_letter":
            parked = dead_letters.parked_streams(conn, self.group, (e.stream_id for e in todo))
        try:
            self._process(conn, todo, generation, parked)
        except HandlerFailedError as failure:
            consumed = next(i for i, e in enumerate(events) if e.position == failure.position)
            return Outcome(consumed, failure)
        return Outcome(len(events), None)

    def _process(
        self,
        conn: Connection,
        events: Sequence[RecordedEvent],
        generation: int,
        parked: dict[str, int],
    ) -> None:
        live = [e for e in events if not self._parked(conn, e, parked)] if parked else events
        if not live:
            return
        try:
            with conn.begin_nested():
                self.projection.handle_batch(upcast_all(live), conn, generation)
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            if len(live) > 1:
                middle = len(live) // 2
                self._process(conn, live[:middle], generation, parked)
                self._process(conn, live[middle:], generation, parked)
            else:
                self._fail(conn, live[0], exc, parked)

    def _parked(self, conn: Connection, event: RecordedEvent, parked: dict[str, int]) -> bool:
        """Park ``event`` if its stream is parked behind an earlier version of it."""
        behind = parked.get(event.stream_id)
        if behind is None or behind >= event.version:
            return False
        reason = f"stream {event.stream_id} is parked behind its version {behind}"
        dead_letters.park(
            conn, self.group, event, state=dead_letters.PARKED, reason=reason, error=None
        )
        self.parked += 1
        return True

    def _fail(
        self, conn: Connection, event: RecordedEvent, exc: Exception, parked: dict[str, int]
    ) -> None:
        if self.policy == "retry":
            raise HandlerFailedError(event.position, exc) from exc
        if self.policy == "dead_letter":
            dead_letters.park(
                conn,
                self.group,
                event,
                state=dead_letters.PARKED,
                reason="handler failed",
                error=exc,
            )
            parked[event.stream_id] = event.version
            self.parked += 1
        else:
            dead_letters.park(
                conn,
                self.group,
                event,
                state=dead_letters.SKIPPED,
                reason="handler failed; skipped by policy",
                error=exc,
            )
            self.skipped += 1
