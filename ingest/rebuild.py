"""Replay: rebuild a group's read model as a new generation beside the live one.

The rebuild reads from the start with its own checkpoint, never past the live group's
checkpoint. When it has caught up with the live group, one transaction makes the new
generation active, drops the old one and removes the rebuild's checkpoint: readers see
the old figures until that commit and the new ones after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, select

from domain.clock import utc_now
from domain.eventstore import Checkpoint, RecordedEvent
from ingest.batch import BatchApplier
from ingest.readmodel import dead_letters, requests

REPLAY = "replay"


def rebuild_key(group: str, generation: int) -> str:
    return f"{group}@g{generation}"


@dataclass
class Rebuild:
    generation: int
    checkpoint: Checkpoint
    applier: BatchApplier
    started_at: datetime = field(default_factory=utc_now)


def request_replay(conn: Connection, group: str) -> None:
    exists = conn.execute(
        select(requests.c.group_name).where(
            requests.c.group_name == group, requests.c.kind == REPLAY
        )
    ).first()
    if exists is None:
        conn.execute(
            requests.insert().values(group_name=group, kind=REPLAY, requested_at=utc_now())
        )


def replay_requested(conn: Connection, group: str) -> bool:
    query = select(requests.c.group_name).where(
        requests.c.group_name == group, requests.c.kind == REPLAY
    )
    return conn.execute(query).first() is not None


def finish_request(conn: Connection, group: str) -> None:
    conn.execute(delete(requests).where(requests.c.group_name == group, requests.c.kind == REPLAY))


def already_dead_lettered(group: str) -> Callable[[Connection, Sequence[RecordedEvent]], set[int]]:
    """Events the live group parked, skipped or discarded were never counted: skip them."""

    def exclude(conn: Connection, events: Sequence[RecordedEvent]) -> set[int]:
        if not events:
            return set()
        query = select(dead_letters.c.position).where(
            dead_letters.c.group_name == group,
            dead_letters.c.state.in_(("parked", "skipped", "discarded")),
            dead_letters.c.position.between(
                min(e.position for e in events), max(e.position for e in events)
            ),
        )
        return {int(row[0]) for row in conn.execute(query)}

    return exclude
