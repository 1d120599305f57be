"""What a processing group runs: a projection writing its read model inside the group's
transaction, so read-model changes and the checkpoint commit together (exactly once)."""

from __future__ import annotations

import abc
import importlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Connection, MetaData

from domain.eventstore import RecordedEvent


class Projection(abc.ABC):
    """Turns batches of events into read-model rows tagged with a generation.

    A replay writes generation ``g + 1`` beside the live ``g`` and then switches over, so
    queries must read the group's active generation.
    """

    metadata: ClassVar[MetaData | None] = None  # tables to create at start

    @abc.abstractmethod
    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        """Write the batch's effect in ``conn``'s transaction; raise to refuse the batch."""

    def drop_generation(self, conn: Connection, generation: int) -> None:  # noqa: B027
        """Delete rows of a generation that a replay has replaced."""

    # --- parts that join late (a metric added to the config) -------------------------------

    def prepare(self, conn: Connection, generation: int, *, fresh: bool) -> dict[str, str]:
        """Reconcile stored state with the configuration, in the group's transaction.

        Return the parts that must first be backfilled from the start of history, each with
        a version (a changed definition restarts its backfill); ``fresh``: the generation has
        seen no event yet, so nothing needs a backfill.
        """
        return {}

    def part(self, name: str) -> Projection:
        """A projection computing only part ``name``, for its backfill."""
        raise KeyError(f"{type(self).__name__} has no parts")

    def part_live(self, conn: Connection, generation: int, name: str) -> None:  # noqa: B027
        """Part ``name`` caught up with the group: compute it live from the next batch."""

    def reconfigure(self, settings: Any, group: Any) -> None:  # noqa: B027
        """Take a new configuration (hot reload); ``prepare`` follows in a transaction."""


class EventHandler(Projection):
    """A projection written one event at a time (simple, non-critical handlers)."""

    @abc.abstractmethod
    def handle(self, event: RecordedEvent, conn: Connection, generation: int) -> None: ...

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        for event in events:
            self.handle(event, conn, generation)


BUILTINS: dict[str, str] = {
    "kpis": "ingest.kpis:KpiProjection",
    "metrics": "ingest.metrics.projection:MetricsProjection",
    "event_counts": "ingest.event_counts:EventCounts",
}


class HandlerLoadError(ValueError):
    """A group's handler reference that does not name a Projection class."""


def load_projection(
    reference: str,
    options: Mapping[str, Any] | None = None,
    *,
    settings: Any = None,
    group: Any = None,
) -> Projection:
    """Instantiate ``builtin:NAME`` or ``package.module:Class`` with the group's options.

    A class with a ``from_settings(settings, group)`` constructor (the built-in metrics)
    is built from the whole configuration instead.
    """
    kind, _, name = reference.partition(":")
    target = BUILTINS.get(name) if kind == "builtin" else reference
    if target is None:
        raise HandlerLoadError(f"no builtin handler {name!r} (known: {', '.join(BUILTINS)})")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise HandlerLoadError(f"cannot load handler {reference!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Projection)):
        raise HandlerLoadError(f"handler {reference!r} is not a Projection subclass")
    if settings is not None and hasattr(cls, "from_settings"):
        return cls.from_settings(settings, group)
    return cls(**dict(options or {}))
