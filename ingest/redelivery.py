"""`dead-letters retry`: run parked events through the group's handler again, in order.

Events are read again from the event store and upcast with today's code, so a fix shipped
as an upcaster or a handler change heals them. A stream is retried in version order and
stops at its first event that still fails; it stays parked from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, select, update

from domain.clock import utc_now
from domain.eventstore import EventStore
from domain.eventstore.engine import WRITE
from domain.serialization import upcast_record
from ingest.checkpoints import active_generation
from ingest.dead_letters import PARKED, RETRIED, SKIPPED
from ingest.failures import is_infrastructure_error
from ingest.projection import Projection
from ingest.readmodel import dead_letters


@dataclass
class RetryResult:
    retried: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def retry_dead_letters(
    store: EventStore,
    engine: Engine,
    group: str,
    projection: Projection,
    *,
    ids: list[int] | None = None,
    stream_id: str | None = None,
) -> RetryResult:
    result = RetryResult()
    blocked: set[str] = set()
    cleared: set[str] = set()
    todo = _candidates(engine, group, ids, stream_id)
    while todo:
        for letter_id, letter_stream, version, _ in todo:
            if letter_stream in blocked:
                continue
            error = _retry_one(store, engine, group, projection, letter_id, letter_stream, version)
            if error is None:
                result.retried.append(letter_id)
                cleared.add(letter_stream)
            else:
                result.failed[letter_id] = error
                blocked.add(letter_stream)
        # A running group parks later events of a stream until its last letter is retried
        # (it takes the same lock, so once that commits it parks no more): pick those up too.
        todo = [
            candidate
            for candidate in _candidates(engine, group, ids, stream_id)
            if candidate[1] in cleared - blocked and candidate[3] == PARKED
        ]
    return result


def _candidates(
    engine: Engine, group: str, ids: list[int] | None, stream_id: str | None
) -> list[tuple[int, str, int, str]]:
    columns = (dead_letters.c.id, dead_letters.c.stream_id, dead_letters.c.version)
    query = select(*columns, dead_letters.c.state).where(
        dead_letters.c.group_name == group, dead_letters.c.state.in_((PARKED, SKIPPED))
    )
    if ids:
        query = query.where(dead_letters.c.id.in_(ids))
    if stream_id:
        query = query.where(dead_letters.c.stream_id == stream_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(dead_letters.c.stream_id, dead_letters.c.version))
        return [(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]


def _retry_one(
    store: EventStore,
    engine: Engine,
    group: str,
    projection: Projection,
    letter_id: int,
    stream_id: str,
    version: int,
) -> str | None:
    stored = store.load_stream(stream_id, after_version=version - 1)[:1]
    if not stored:
        return f"event {stream_id} v{version} is no longer in the event store"
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            lock_group(conn, group)
            try:
                with conn.begin_nested():
                    generation = active_generation(conn, group)
                    projection.handle_batch([upcast_record(stored[0])], conn, generation)
            except Exception as exc:
                if is_infrastructure_error(exc):
                    raise
                message = f"{type(exc).__name__}: {exc}"
                conn.execute(
                    update(dead_letters).where(dead_letters.c.id == letter_id).values(error=message)
                )
                return message
            conn.execute(
                update(dead_letters)
                .where(dead_letters.c.id == letter_id)
                .values(state=RETRIED, resolved_at=utc_now())
            )
    return None


def lock_group(conn: Connection, group: str) -> None:
    """Serialise with the running group's batches (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(  # per schema: stores in other schemas must not wait on it
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || %(g)s))",
            {"g": group},
        )
