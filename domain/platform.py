"""The application service: one command, one transaction. ``bootstrap()`` is the composition root.

platform = bootstrap(store)
platform.handle(Deposit(user_id="U1", amount=Decimal("100.00"), channel="alipay"))
with platform.batch() as batch:  # many commands, one transaction
    batch.handle(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from domain.aggregates import Aggregate
from domain.clock import Clock, require_utc, utc_now
from domain.commands import Command
from domain.errors import DomainError
from domain.events import DomainEvent
from domain.eventstore import ConcurrencyError, DuplicateCommandError, EventStore, RecordedEvent
from domain.handlers import HANDLERS, Handler
from domain.repository import (
    DEFAULT_WARM_CAPACITY,
    AggregateRepository,
    aggregate_for,
    state_at,
)
from domain.serialization import from_recorded
from domain.unit_of_work import UnitOfWork

__all__ = ["Batch", "Platform", "bootstrap", "state_at"]


def command_metadata(command: Command) -> dict[str, Any]:
    return {
        "command_id": command.command_id,
        "correlation_id": command.correlation_id or command.command_id,
        "causation_id": command.command_id,
        "actor": command.actor,
        "command": command.command_type(),
    }


class Platform:
    def __init__(
        self,
        store: EventStore,
        handlers: dict[type[Command], Handler],
        *,
        clock: Clock,
        snapshot_interval: int,
        max_retries: int,
        warm_capacity: int = DEFAULT_WARM_CAPACITY,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.store = store
        self.repository = AggregateRepository(
            store, snapshot_interval=snapshot_interval, clock=clock, warm_capacity=warm_capacity
        )
        self._handlers = handlers
        self._clock = clock
        self.max_retries = max_retries

    def handle(self, command: Command) -> list[RecordedEvent]:
        """Decide and append in one transaction; retried on concurrent writes; idempotent.

        Each attempt opens one store session (one connection), loads fresh aggregates
        through it, decides, and appends with the loaded versions and the command id. A
        command id handled before is refused by the store (``DuplicateCommandError``) and
        its first result returned; nothing is looked up beforehand. A rejection
        (``DomainError``) is checked the same way first, since a re-sent command can be
        rejected by its own first effects (a second ``RegisterUser``). A ``ConcurrencyError``
        re-runs the attempt, at most ``max_retries`` times, unless a twin of the command
        won meanwhile (then its result is returned).
        """
        attempt = 0
        while True:
            try:
                return self._attempt(command)
            except ConcurrencyError:
                attempt += 1
                previous = self.store.command_result(command.command_id)
                if previous is not None:
                    return previous
                if attempt > self.max_retries:
                    raise
            except DuplicateCommandError:  # handled before, or a concurrent twin won
                return self.store.command_result(command.command_id) or []

    def _attempt(self, command: Command) -> list[RecordedEvent]:
        with self.store.session() as session:
            unit = UnitOfWork(self.repository, session)
            try:
                self.decide(unit, command)
            except DomainError:
                previous = session.command_result(command.command_id)
                if previous is None:
                    raise
                return previous
            recorded = unit.append(command_id=command.command_id)
        unit.save_snapshots()  # after the commit: a snapshot is only a cache
        # committed: they match the store, as of the session's stamp
        self.repository.keep(unit.aggregates, session.warm_stamp)
        return recorded

    def decide(self, unit: UnitOfWork, command: Command) -> list[DomainEvent]:
        """Run the command's handler and stage its events in ``unit`` (or raise, staging none)."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"no handler for {type(command).__name__}")
        changes = handler(command, unit)
        occurred_at = require_utc(self._clock(), "occurred_at")
        return unit.record(changes, command_metadata(command), occurred_at)

    @contextmanager
    def batch(self, *, skip_handled: bool = True) -> Iterator[Batch]:
        """Many commands in ONE transaction, appended when the block exits without error.

        A rejected command raises ``DomainError`` and stages nothing; the batch goes on.
        With ``skip_handled`` a command id already in the store is not run again (one
        ``command_result`` lookup per command; pass False for fresh ids to save them).
        A ``ConcurrencyError`` at the end is raised: the batch is not retried.
        """
        batch = Batch(self, UnitOfWork(self.repository), skip_handled)
        yield batch
        batch.recorded = batch.unit.commit()

    def load(self, aggregate: type[Aggregate] | str, aggregate_id: str | None = None) -> Any:
        """Current state: ``load(Wallet, "U1")``, ``load("wallet-U1")`` or ``("wallet", "U1")``."""
        if isinstance(aggregate, str):
            stream_id = aggregate if aggregate_id is None else f"{aggregate}-{aggregate_id}"
            empty = aggregate_for(stream_id)
            return self.repository.load(type(empty), empty.id)
        if aggregate_id is None:
            raise TypeError("load(aggregate_cls, aggregate_id) needs the aggregate id")
        return self.repository.load(aggregate, aggregate_id)


class Batch:
    def __init__(self, platform: Platform, unit: UnitOfWork, skip_handled: bool) -> None:
        self.platform = platform
        self.unit = unit
        self.skip_handled = skip_handled
        self.results: dict[str, list[DomainEvent]] = {}
        self.recorded: list[RecordedEvent] = []  # filled when the block exits

    def handle(self, command: Command) -> list[DomainEvent]:
        if command.command_id in self.results:
            return self.results[command.command_id]
        if self.skip_handled:
            previous = self.platform.store.command_result(command.command_id)
            if previous is not None:
                return [from_recorded(record) for record in previous]
        events = self.platform.decide(self.unit, command)
        self.results[command.command_id] = events
        return events


def bootstrap(
    store: EventStore,
    *,
    clock: Clock = utc_now,
    snapshot_interval: int = 50,
    max_retries: int = 5,
    warm_capacity: int = DEFAULT_WARM_CAPACITY,
) -> Platform:
    """The composition root: the platform with every command handler wired in."""
    return Platform(
        store,
        dict(HANDLERS),
        clock=clock,
        snapshot_interval=snapshot_interval,
        max_retries=max_retries,
        warm_capacity=warm_capacity,
    )
