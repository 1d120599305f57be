"""Delivering the outbox: one sender per sink, first in first out, off the evaluation thread.

A delivery is marked sent only after its sink accepted it. A failure is retried after
``backoff_s`` doubling, up to ``retries`` times, then marked failed so the queue moves on; a
slow or failing sink holds only its own queue. A crash between a sink's acceptance and the
mark re-sends that one notification after a restart: receivers can drop the repeat by its
``notification_id`` (also the webhook's ``Idempotency-Key`` header).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import Connection, Engine, select, update

from domain.clock import Clock, utc_now
from domain.eventstore.engine import WRITE
from ingest.alerts.notify import Sink
from ingest.alerts.tables import deliveries, outbox

log = logging.getLogger(__name__)
IDLE_POLL_S = 1.0


class Sender:
    def __init__(self, engine: Engine, sink: Sink, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.sink = sink
        self.clock = clock
        self.wake = threading.Event()

    def drain(self) -> int:
        """Deliver every due notification of this sink in order; stop at the first failure.
        Returns how many the sink accepted."""
        accepted = 0
        while True:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(
                        deliveries.c.outbox_id,
                        deliveries.c.attempts,
                        deliveries.c.next_attempt_at,
                        outbox.c.payload,
                    )
                    .join(outbox, outbox.c.id == deliveries.c.outbox_id)
                    .where(deliveries.c.sink == self.sink.name, deliveries.c.state == "pending")
                    .order_by(deliveries.c.outbox_id)
                    .limit(1)
                ).first()
            now = self.clock()
            if row is None or row.next_attempt_at > now:
                return accepted
            message = {**row.payload, "notification_id": int(row.outbox_id)}
            try:
                self.sink.send(message)
            except Exception as exc:  # the receiver's problem: retry later, never raise
                self._failed(int(row.outbox_id), int(row.attempts) + 1, f"{exc}")
                return accepted
            self._mark(
                row.outbox_id,
                state="sent",
                attempts=int(row.attempts) + 1,
                sent_at=now,
                last_error=None,
            )
            accepted += 1

    def _failed(self, outbox_id: int, attempts: int, error: str) -> None:
        settings = self.sink.settings
        if attempts > settings.retries:
            log.error(
                "alerts: sink %s gave up on notification %d after %d attempts: %s",
                self.sink.name,
                outbox_id,
                attempts,
                error,
            )
            self._mark(outbox_id, state="failed", attempts=attempts, last_error=error)
            return
        delay = timedelta(seconds=settings.backoff_s * 2 ** (attempts - 1))
        log.warning(
            "alerts: sink %s: notification %d failed (attempt %d), retry in %s: %s",
            self.sink.name,
            outbox_id,
            attempts,
            delay,
            error,
        )
        self._mark(
            outbox_id, attempts=attempts, last_error=error, next_attempt_at=self.clock() + delay
        )

    def _mark(self, outbox_id: int, **values: object) -> None:
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                _update(conn, outbox_id, self.sink.name, values)

    def run(self, stop: threading.Event) -> None:
        """Drain until stopped; woken by new notifications, polling for retries meanwhile."""
        while not stop.is_set():
            try:
                self.drain()
            except Exception as exc:  # the database may be down: try again shortly
                log.warning("alerts: sink %s: cannot read the outbox: %s", self.sink.name, exc)
            self.wake.wait(IDLE_POLL_S)
            self.wake.clear()


def _update(conn: Connection, outbox_id: int, sink: str, values: dict[str, object]) -> None:
    conn.execute(
        update(deliveries)
        .where(
            deliveries.c.outbox_id == outbox_id,
            deliveries.c.sink == sink,
            deliveries.c.state == "pending",
        )
        .values(**values)
    )


def drop_unknown_sinks(conn: Connection, known: set[str]) -> int:
    """Pending deliveries of sinks that no longer exist (removed, or unset URL) are dropped."""
    query = update(deliveries).where(deliveries.c.state == "pending")
    if known:
        query = query.where(deliveries.c.sink.not_in(sorted(known)))
    return int(conn.execute(query.values(state="dropped")).rowcount)
