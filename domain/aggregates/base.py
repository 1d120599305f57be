"""What every aggregate shares: identity, version, blind ``apply``, snapshots, a JSON view.

Decisions (``deposit``, ``approve`` ...) are pure methods that validate a command against
the current state and return the events to record, changing nothing. ``apply`` then folds
events into the state without checking any rule, so replaying history can never fail
because a rule changed since the events were written.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Self

from domain.aggregates.errors import InvalidCommandError
from domain.events import DomainEvent


class Aggregate:
    stream_type: ClassVar[str] = ""
    state_version: ClassVar[int] = 1  # bump when to_snapshot()'s shape changes

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0  # number of events applied, i.e. the stream version

    @property
    def stream_id(self) -> str:
        return f"{self.stream_type}-{self.id}"

    @property
    def exists(self) -> bool:
        return self.version > 0

    def apply(self, event: DomainEvent) -> None:
        """Fold one recorded event into the state. Never validates."""
        self.when(event)
        self.version += 1

    def apply_all(self, events: Iterable[DomainEvent]) -> None:
        for event in events:
            self.apply(event)

    def when(self, event: DomainEvent) -> None:
        raise NotImplementedError

    # --- snapshots and views ------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        """The state as a JSON-ready dict (Decimals as strings)."""
        raise NotImplementedError

    @classmethod
    def from_snapshot(cls, aggregate_id: str, version: int, state: dict[str, Any]) -> Self:
        aggregate = cls(aggregate_id)
        aggregate.restore(state)
        aggregate.version = version
        return aggregate

    def restore(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for audit pages: identity, version, state and derived figures."""
        return {
            "stream_id": self.stream_id,
            "id": self.id,
            "version": self.version,
            **self.to_snapshot(),
            **encode(self.derived()),
        }

    def derived(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, version={self.version})"


def encode(value: Any) -> Any:
    """Decimals become strings, containers are copied recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decimals(values: dict[str, str]) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in values.items()}


def require_id(value: object, what: str) -> str:
    """Ids are non-empty strings without whitespace (they end up in stream ids)."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise InvalidCommandError(f"{what} must be a non-empty string without spaces: {value!r}")
    return value


def require_choice(value: object, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidCommandError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def require_reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommandError(f"a reason is required, got {value!r}")
    return value.strip()
