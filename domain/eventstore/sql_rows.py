"""Rows of the ``events`` table <-> records, and database errors -> event store errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

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


def select_events(postgres: bool) -> str:
    """``SELECT`` of every column ``decode_rows`` expects (JSON as text) ``FROM events``."""
    text = "::text" if postgres else ""
    return f"SELECT {COLUMNS}, payload{text}, metadata{text} FROM events"


_LAZY_FIELDS = ("occurred_at", "recorded_at", "payload", "metadata")
_SLOTS = {name: RecordedEvent.__dict__[name] for name in _LAZY_FIELDS}


_DECODED: Any = object()  # a raw slot's value once its field is decoded (or set directly)


def _lazy(name: str, decode: Callable[[Any], Any]) -> property:
    """A field kept as the row's raw value until first read, then decoded once into the
    dataclass's own slot; later reads cost a slot lookup."""
    slot = _SLOTS[name]
    raw_slot = LazyRecordedEvent.__dict__[f"_raw_{name}"]

    def get(self: LazyRecordedEvent) -> Any:
        raw = raw_slot.__get__(self, LazyRecordedEvent)
        if raw is _DECODED:
            return slot.__get__(self, RecordedEvent)
        value = decode(raw)
        slot.__set__(self, value)
        raw_slot.__set__(self, _DECODED)
        return value

    def set_(self: LazyRecordedEvent, value: Any) -> None:
        slot.__set__(self, value)
        raw_slot.__set__(self, _DECODED)

    return property(get, set_, doc=f"{name}, decoded from the stored row on first read")


class LazyRecordedEvent(RecordedEvent):
    """A ``RecordedEvent`` read from the table whose payload, metadata and (on SQLite, where
    they are text) timestamps are decoded on first access. A tailing handler that looks at
    one event type pays nothing for the others' JSON (like Axon's lazily deserialised event
    messages); to everything else it is a ``RecordedEvent`` (same fields, equality, asdict)."""

    __slots__ = ("_raw_metadata", "_raw_occurred_at", "_raw_payload", "_raw_recorded_at")
    _raw_metadata: str | bytes
    _raw_occurred_at: str
    _raw_payload: str | bytes
    _raw_recorded_at: str

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedEvent):
            return NotImplemented
        return _values(self) == _values(other)

    __hash__ = None  # type: ignore[assignment]

    def occurred_minute(self) -> int:
        """As ``RecordedEvent.occurred_minute``; while ``occurred_at`` is still the stored
        text, from its minute prefix (one dict lookup, not a datetime parse per event)."""
        raw = self._raw_occurred_at
        if raw is _DECODED:
            return RecordedEvent.occurred_minute(self)
        return _minute_of_text(raw)

    def with_payload(self, payload: dict[str, Any], schema_version: int) -> RecordedEvent:
        """A copy with another payload that leaves the other lazy fields undecoded."""
        # (spelled out field by field: an upcast replay copies every record behind its
        # type's version, and name loops with getattr/setattr cost twice as much)
        copy = object.__new__(LazyRecordedEvent)
        copy.position, copy.tx_id, copy.stream_id = self.position, self.tx_id, self.stream_id
        copy.stream_type, copy.version = self.stream_type, self.version
        copy.event_type, copy.schema_version = self.event_type, schema_version
        raw: object
        raw = copy._raw_occurred_at = self._raw_occurred_at
        if raw is _DECODED:
            _OCCURRED.__set__(copy, _OCCURRED.__get__(self, RecordedEvent))
        raw = copy._raw_recorded_at = self._raw_recorded_at
        if raw is _DECODED:
            _RECORDED.__set__(copy, _RECORDED.__get__(self, RecordedEvent))
        raw = copy._raw_metadata = self._raw_metadata
        if raw is _DECODED:
            _METADATA.__set__(copy, _METADATA.__get__(self, RecordedEvent))
        copy.payload = payload
        return copy


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "occurred_at": datetime.fromisoformat,
    "recorded_at": datetime.fromisoformat,
    "payload": orjson.loads,
    "metadata": orjson.loads,
}
_OCCURRED, _RECORDED, _METADATA = (_SLOTS[n] for n in ("occurred_at", "recorded_at", "metadata"))
for _name, _decode in _DECODERS.items():
    setattr(LazyRecordedEvent, _name, _lazy(_name, _decode))


_MINUTES: dict[str, int] = {}


def _minute_of_text(text: str) -> int:
    """Epoch minute start of an ISO-8601 time as this store writes it (UTC, ``+00:00``):
    its first 16 characters name the minute, parsed once and remembered. Any other form is
    parsed whole."""
    if len(text) >= 19 and text[16] == ":" and text.endswith("+00:00"):
        prefix = text[:16]
        found = _MINUTES.get(prefix)
        if found is None:
            if len(_MINUTES) >= 100_000:
                _MINUTES.clear()
            found = _MINUTES[prefix] = int(datetime.fromisoformat(prefix + "+00:00").timestamp())
        return found
    return int(datetime.fromisoformat(text).timestamp()) // 60 * 60


def _values(event: RecordedEvent) -> tuple[Any, ...]:
    return tuple(getattr(event, f.name) for f in fields(RecordedEvent))


def decode_rows(rows: Any, *, timestamps_are_text: bool) -> list[RecordedEvent]:
    """Records from raw rows of ``COLUMNS, payload, metadata`` (JSON text; SQLite keeps times
    as text too). Nothing is decoded here: see ``LazyRecordedEvent``."""
    new = object.__new__
    cls = LazyRecordedEvent
    occurred, recorded = _SLOTS["occurred_at"], _SLOTS["recorded_at"]
    records: list[RecordedEvent] = []
    append = records.append
    for r in rows:
        e = new(cls)
        e.position, e.tx_id, e.stream_id, e.stream_type, e.version, e.event_type = r[:6]
        e.schema_version = r[6]
        if timestamps_are_text:
            e._raw_occurred_at = r[7]
            e._raw_recorded_at = r[8]
        else:
            occurred.__set__(e, r[7])
            recorded.__set__(e, r[8])
            e._raw_occurred_at = e._raw_recorded_at = _DECODED
        e._raw_payload = r[9]
        e._raw_metadata = r[10]
        append(e)
    return records


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
