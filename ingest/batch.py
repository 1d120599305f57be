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
        todo = [event for event in events if event.position not in excluded]
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
        live: list[RecordedEvent] = []
        for event in events:
            if event.stream_id in parked and parked[event.stream_id] < event.version:
                reason = (
                    f"stream {event.stream_id} is parked behind its version "
                    f"{parked[event.stream_id]}"
                )
                dead_letters.park(
                    conn, self.group, event, state=dead_letters.PARKED, reason=reason, error=None
                )
                self.parked += 1
            else:
                live.append(event)
        if not live:
            return
        try:
            with conn.begin_nested():
                self.projection.handle_batch([upcast_record(e) for e in live], conn, generation)
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            if len(live) > 1:
                middle = len(live) // 2
                self._process(conn, live[:middle], generation, parked)
                self._process(conn, live[middle:], generation, parked)
            else:
                self._fail(conn, live[0], exc, parked)

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
