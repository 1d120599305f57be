"""Rows of the ``events`` table <-> records, and database errors -> event store errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from domain.clock import require_utc
from domain.eventstore.records import (
    ConcurrencyError,
    DuplicateCommandError,
    EventStoreError,
    RecordedEvent,
    StreamAppend,
)
from domain.eventstore.schema import commands

# The columns ``decode_rows`` expects, in order (payload and metadata as JSON text).
COLUMNS = (
    "position, tx_id, stream_id, stream_type, version, event_type, schema_version, "
    "occurred_at, recorded_at"
)


def decode_rows(rows: Any, *, timestamps_are_text: bool) -> list[RecordedEvent]:
    """Records from raw rows of ``COLUMNS, payload, metadata`` (SQLite keeps times as text)."""
    loads = orjson.loads
    if not timestamps_are_text:
        return [
            RecordedEvent(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], loads(r[9]), loads(r[10])
            )
            for r in rows
        ]
    parse = datetime.fromisoformat
    return [
        RecordedEvent(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], parse(r[7]), parse(r[8]), loads(r[9]),
            loads(r[10]),
        )
        for r in rows
    ]  # fmt: skip


def new_rows(
    appends: Sequence[StreamAppend], tx_id: int, recorded_at: datetime, meta: dict[str, Any]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for append in appends:
        for offset, new in enumerate(append.events, start=1):
            occurred_at = recorded_at if new.occurred_at is None else new.occurred_at
            rows.append(
                {
                    "tx_id": tx_id,
                    "stream_id": append.stream_id,
                    "stream_type": append.stream_type,
                    "version": append.expected_version + offset,
                    "event_type": new.event_type,
                    "schema_version": new.schema_version,
                    "occurred_at": require_utc(occurred_at, "occurred_at"),
                    "recorded_at": recorded_at,
                    "payload": dict(new.payload),
                    "metadata": {**meta, **(new.metadata or {})},
                }
            )
    return rows


def recorded(row: dict[str, Any], position: int) -> RecordedEvent:
    return RecordedEvent(
        position=position,
        tx_id=row["tx_id"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        version=row["version"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        payload=row["payload"],
        metadata=row["metadata"],
    )


def append_error(
    exc: IntegrityError, appends: Sequence[StreamAppend], command_id: str | None
) -> EventStoreError:
    constraint = _violated_constraint(exc)
    if constraint == commands.primary_key.name:
        return DuplicateCommandError(command_id or "(one of the batch's commands)")
    if constraint == "events_stream_version":
        return conflict(appends, "concurrent append")
    return EventStoreError(f"append failed: {exc.orig}")


def _violated_constraint(exc: IntegrityError) -> str:
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if name:  # PostgreSQL names it
        return str(name)
    message = str(exc.orig)  # SQLite: "UNIQUE constraint failed: events.stream_id, events.version"
    if "commands.command_id" in message:
        return str(commands.primary_key.name)
    if "events.stream_id" in message and "events.version" in message:
        return "events_stream_version"
    return ""


def conflict(appends: Sequence[StreamAppend], why: str) -> ConcurrencyError:
    first = appends[0]
    error = ConcurrencyError(first.stream_id, first.expected_version, None)
    error.args = (f"{why} to one of: {', '.join(a.stream_id for a in appends)}",)
    return error
