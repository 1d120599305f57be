"""Refusing a metric declaration at the offending key, so the config loader can report
that key and its line (``config.yaml:57: metrics.3.field: ...``)."""

from __future__ import annotations

import dataclasses

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.events import EVENT_TYPES

Loc = tuple[str | int, ...]


def located(loc: Loc, message: str, value: object = None) -> ValidationError:
    """A refusal of the key at ``loc`` (below the model being validated), so the config
    loader reports that key and its line rather than the whole metric's."""
    error = PydanticCustomError("metric", "{message}", {"message": message})
    return ValidationError.from_exception_data(
        "metric", [InitErrorDetails(type=error, loc=loc, input=value)]
    )


def event_fields(event_type: str) -> set[str]:
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise ValueError(f"unknown event type {event_type!r} (known: {known})")
    return {f.name for f in dataclasses.fields(cls)}


def check_event(event_type: str, loc: Loc) -> None:
    try:
        event_fields(event_type)
    except ValueError as exc:
        raise located(loc, str(exc), event_type) from None


def require_field(event_types: list[str], name: str, loc: Loc, what: str = "field") -> None:
    for event_type in event_types:
        fields = event_fields(event_type)
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise located(
                loc, f"{what} {name!r} is not a field of {event_type} (fields: {known})", name
            )
