"""One thread per process waits on the event store and wakes every processing group.

A single LISTEN connection (PostgreSQL) or poll (SQLite) serves all groups, so a group
waiting for events never holds the wake-up from another.
"""

from __future__ import annotations

import logging
import threading

from domain.eventstore import Checkpoint, EventStore

log = logging.getLogger(__name__)


class Waker:
    def __init__(self, store: EventStore, timeout: float = 0.25) -> None:
        self._store = store
        self._timeout = timeout
        self._changed = threading.Condition()
        self._sequence = 0

    @property
    def sequence(self) -> int:
        with self._changed:
            return self._sequence

    def wait(self, seen: int, timeout: float) -> bool:
        """Wait until the sequence moves past ``seen`` (events may be there) or timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._sequence != seen, timeout)

    def poke(self) -> None:
        with self._changed:
            self._sequence += 1
            self._changed.notify_all()

    def run(self, stop: threading.Event, *, timeout: float | None = None) -> None:
        """Poke the groups whenever the store's head moves, until ``stop``; ``timeout`` (default:
        the constructor's) bounds how long a stop waits for the current wait to end."""
        last: Checkpoint | None = None
        slice_ = self._timeout if timeout is None else timeout
        while not stop.is_set():
            try:
                if self._store.wait_for_new(slice_, after=last):
                    last = self._store.head()
                    self.poke()
            except Exception as exc:  # the database may be down: groups poll meanwhile
                log.warning("waiting for new events failed: %s", exc)
                last = None
                stop.wait(1.0)
        self.poke()  # groups waiting for events see the stop now, not after their idle wait
