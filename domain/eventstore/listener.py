"""PostgreSQL wake-ups: one LISTEN connection shared by every thread that waits for events.

A notification only says "something may have changed" (the channel is database-wide, so other
schemas' stores notify on it too, and a notification can be lost with a broken connection).
Callers therefore re-check the log after every wake-up and wait in short slices.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine


class NotifyListener:
    """A pooled connection that LISTENs on ``channel``; ``wait`` blocks until a notification.

    One waiting thread at a time reads the socket (the pump); the others wait on a condition
    that the pump signals when a notification arrives or its slice ends.
    """

    def __init__(self, engine: Engine, channel: str) -> None:
        self._engine = engine
        self._channel = channel
        self._connection: Any = None  # pooled DBAPI connection, counted in the bounded pool
        self._changed = threading.Condition()
        self._pumping = False
        self._generation = 0
        self._closed = False

    def start(self) -> None:
        """LISTEN now (idempotent): any notification sent after this returns wakes ``wait``."""
        with self._changed:
            if self._connection is None and not self._closed:
                self._connection = self._listen()

    def wait(self, timeout: float) -> None:
        """Return on a notification or after ``timeout`` seconds, whichever comes first."""
        with self._changed:
            if self._pumping:
                generation = self._generation
                self._changed.wait_for(lambda: self._generation != generation, timeout)
                return
            connection = self._connection
            if connection is None:  # closed, or broken and not restarted yet
                self._changed.wait(timeout)
                return
            self._pumping = True
        try:
            self._pump(connection, timeout)
        finally:
            with self._changed:
                self._pumping = False
                self._generation += 1
                self._changed.notify_all()

    def _pump(self, connection: Any, timeout: float) -> None:
        try:
            driver = connection.driver_connection
            # Each generator holds the connection's lock until exhausted: never nest them.
            if sum(1 for _ in driver.notifies(timeout=timeout, stop_after=1)):
                for _ in driver.notifies(timeout=0):
                    pass  # one wake-up covers every pending notification
        except Exception as exc:  # a broken socket: drop it, the next start() listens again
            if not type(exc).__module__.startswith(("psycopg", "sqlalchemy")):
                raise
            with self._changed:
                if self._connection is connection:
                    self._connection = None
            connection.invalidate()

    def _listen(self) -> Any:
        pooled = self._engine.raw_connection()
        try:
            driver = pooled.driver_connection
            if driver is None:
                raise RuntimeError("the pool returned a connection without a driver connection")
            driver.autocommit = True
            driver.execute(f"LISTEN {self._channel}")
        except Exception:
            pooled.invalidate()
            raise
        return pooled

    def close(self) -> None:
        """Stop listening and give the connection back to the pool (waits out a running pump)."""
        with self._changed:
            self._closed = True
            self._changed.wait_for(lambda: not self._pumping)
            connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            driver = connection.driver_connection
            driver.execute(f"UNLISTEN {self._channel}")
            driver.autocommit = False
        except Exception:
            connection.invalidate()
            return
        connection.close()
