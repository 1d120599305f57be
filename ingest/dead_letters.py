"""Dead letters: a failing event is parked with its error, and so is every later event of
its stream in that group, so per-stream order is kept; other streams go on."""

from __future__ import annotations

import dataclasses
import traceback as tracebacks
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from domain.clock import utc_now
from domain.eventstore import RecordedEvent
from ingest.readmodel import dead_letters

PARKED = "parked"
SKIPPED = "skipped"
DISCARDED = "discarded"
RETRIED = "retried"


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    id: int
    group_name: str
    position: int
    stream_id: str
    version: int
    event_type: str
    state: str
    reason: str
    error: str
    traceback: str
    event: dict[str, Any]
    parked_at: datetime
    resolved_at: datetime | None


def event_document(event: RecordedEvent) -> dict[str, Any]:
    document = dataclasses.asdict(event)
    document["occurred_at"] = event.occurred_at.isoformat()
    document["recorded_at"] = event.recorded_at.isoformat()
    return document


def park(
    conn: Connection,
    group: str,
    event: RecordedEvent,
    *,
    state: str,
    reason: str,
    error: BaseException | None,
) -> None:
    conn.execute(
        dead_letters.insert().values(
            group_name=group,
            position=event.position,
            tx_id=event.tx_id,
            stream_id=event.stream_id,
            version=event.version,
            event_type=event.event_type,
            state=state,
            reason=reason,
            error="" if error is None else f"{type(error).__name__}: {error}",
            traceback=""
            if error is None
            else "".join(tracebacks.format_exception(type(error), error, error.__traceback__)),
            event=event_document(event),
            parked_at=utc_now(),
        )
    )


def parked_streams(conn: Connection, group: str, stream_ids: Iterable[str]) -> dict[str, int]:
    """Streams of ``stream_ids`` with a parked event in ``group``: id -> its lowest version."""
    ids = sorted(set(stream_ids))
    found: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(dead_letters.c.stream_id, func.min(dead_letters.c.version))
            .where(
                dead_letters.c.group_name == group,
                dead_letters.c.state == PARKED,
                dead_letters.c.stream_id.in_(ids[start : start + 500]),
            )
            .group_by(dead_letters.c.stream_id)
        )
        found.update({row[0]: int(row[1]) for row in conn.execute(query)})
    return found


def list_dead_letters(
    conn: Connection, group: str | None = None, states: Sequence[str] = (PARKED, SKIPPED)
) -> list[DeadLetter]:
    query = select(dead_letters).where(dead_letters.c.state.in_(states))
    if group is not None:
        query = query.where(dead_letters.c.group_name == group)
    rows = conn.execute(query.order_by(dead_letters.c.group_name, dead_letters.c.position))
    return [DeadLetter(**{k: v for k, v in row._mapping.items() if k != "tx_id"}) for row in rows]


def count_parked(conn: Connection, group: str, state: str = PARKED) -> int:
    """Dead letters of ``group`` in ``state`` (parked, or skipped: counted across restarts)."""
    query = select(func.count()).where(
        dead_letters.c.group_name == group, dead_letters.c.state == state
    )
    return int(conn.execute(query).scalar_one())


def resolve(conn: Connection, ids: Sequence[int], state: str) -> int:
    if not ids:
        return 0
    result = conn.execute(
        update(dead_letters)
        .where(dead_letters.c.id.in_(list(ids)), dead_letters.c.state.in_((PARKED, SKIPPED)))
        .values(state=state, resolved_at=utc_now())
    )
    return int(result.rowcount)
