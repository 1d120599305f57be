"""Domain events <-> stored payloads (JSON-ready dicts), through the upcaster chain."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.events import EVENT_TYPES, DomainEvent
from domain.eventstore.records import NewEvent, RecordedEvent
from domain.upcasting import upcast


class EventDecodingError(ValueError):
    """A stored event that cannot be turned into its domain class."""


def encode_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@functools.cache
def _field_names(cls: type[DomainEvent]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def to_payload(event: DomainEvent) -> dict[str, Any]:
    names = _field_names(type(event))  # type: ignore[arg-type]  # classes hash by identity
    return {name: encode_value(getattr(event, name)) for name in names}


def to_new_event(
    event: DomainEvent,
    occurred_at: datetime | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> NewEvent:
    return NewEvent(
        event.event_type(), to_payload(event), event.schema_version, occurred_at, metadata
    )


@functools.cache
def _fields(cls: type[DomainEvent]) -> tuple[tuple[str, Any, bool], ...]:
    """Per event class, once: each field's name, type and whether the payload must hold it."""
    types = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            types[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


def _decode_field(cls: type[DomainEvent], name: str, kind: Any, raw: object) -> object:
    if raw is None:
        return None
    try:
        if kind is Decimal:
            return Decimal(str(raw))
        if kind is int:
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise TypeError(f"expected an integer, got {type(raw).__name__}")
            return int(raw)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise EventDecodingError(f"{cls.__name__}.{name}: cannot decode {raw!r}: {exc}") from exc
    return raw


def from_payload(event_type: str, schema_version: int, payload: dict[str, Any]) -> DomainEvent:
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise EventDecodingError(f"unknown event type {event_type!r}")
    current = (
        payload
        if schema_version == cls.schema_version
        else upcast(event_type, schema_version, payload, cls.schema_version)
    )
    values: dict[str, object] = {}
    for name, kind, required in _fields(cls):  # type: ignore[arg-type]  # hash by identity
        if name in current:
            raw = current[name]
            if raw is None or (kind is str and raw.__class__ is str):
                values[name] = raw
            else:
                values[name] = _decode_field(cls, name, kind, raw)
        elif required:
            raise EventDecodingError(
                f"{event_type} v{schema_version} payload lacks required field {name!r}"
            )
    return cls(**values)


def from_recorded(record: RecordedEvent) -> DomainEvent:
    return from_payload(record.event_type, record.schema_version, record.payload)


def upcast_record(record: RecordedEvent) -> RecordedEvent:
    """The record with its payload lifted to the current schema version (unknown types and
    current versions are returned as they are)."""
    cls = EVENT_TYPES.get(record.event_type)
    if cls is None or record.schema_version == cls.schema_version:
        return record
    payload = upcast(record.event_type, record.schema_version, record.payload, cls.schema_version)
    return record.with_payload(payload, cls.schema_version)
