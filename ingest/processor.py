"""One processing group: tail the store, apply batches exactly once, survive failures."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from domain.clock import utc_now
from domain.eventstore import START, Checkpoint, EventStore, RecordedEvent
from domain.eventstore.engine import WRITE
from ingest import backfill as bf
from ingest import checkpoints as cp
from ingest import rebuild as rb
from ingest.backoff import Backoff
from ingest.batch import BatchApplier, Outcome
from ingest.checkpoints import CheckpointConflictError
from ingest.failures import HandlerFailedError, is_infrastructure_error
from ingest.projection import Projection
from ingest.redelivery import lock_group
from ingest.settings import GroupSettings, IngestSettings
from ingest.status import GroupState, write_status
from ingest.waker import Waker

log = logging.getLogger(__name__)
SEGMENT = 0


class GroupProcessor:
    def __init__(
        self,
        group: GroupSettings,
        projection: Projection,
        store: EventStore,
        engine: Engine,
        ingest: IngestSettings,
        factory: Callable[[], Projection] | None = None,
    ) -> None:
        self.group = group
        self.name = group.name
        self.projection = projection
        self.store = store
        self.engine = engine
        self.settings = ingest
        self.batch_size = group.batch_size or ingest.batch_size
        self.applier = BatchApplier(self.name, projection, group.error_policy)
        self.state = GroupState(self.name, group.critical, group.error_policy)
        self.rebuild: rb.Rebuild | None = None
        self.backfills: dict[str, bf.Backfill] = {}
        self._factory = factory or (lambda: projection)
        self._pending_settings: Any = None
        self._reconfigure_lock = threading.Lock()
        self._recent: deque[tuple[float, int]] = deque()
        self._reported_at = 0.0
        self._reported_state = ""
        self._requests_checked_at = 0.0

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                lock_group(conn, self.name)
                yield conn

    def prepare(self) -> None:
        """Load the checkpoint and generation, and reconcile the projection's parts with the
        configuration: parts that joined late get a backfill job each."""
        with self._transaction() as conn:
            self.state.checkpoint = cp.ensure_checkpoint(conn, self.name, SEGMENT)
            self.state.generation = cp.active_generation(conn, self.name)
            pending = self.projection.prepare(
                conn, self.state.generation, fresh=self.state.checkpoint == START
            )
            self.backfills = {}
            for part, version in pending.items():
                key = bf.backfill_key(self.name, part, version)
                start = cp.ensure_checkpoint(conn, key, SEGMENT)
                applier = BatchApplier(
                    self.name, self.projection.part(part), self.group.error_policy,
                    exclude=rb.already_dead_lettered(self.name),
                )  # fmt: skip
                self.backfills[part] = bf.Backfill(part, key, start, applier)
            bf.forget_other_backfills(conn, self.name, {job.key for job in self.backfills.values()})
        self._show_backfills()

    def backfill_step(self) -> int:
        """Advance the first late-joining part by one batch; it goes live once it meets the
        group's checkpoint (same thread, between batches: nothing counted twice or missed)."""
        if not self.backfills:
            return 0
        job = next(iter(self.backfills.values()))
        live = self.state.checkpoint
        events = self.store.read_all(job.checkpoint, self.batch_size)
        events = [e for e in events if e.checkpoint <= live]
        if not events:
            with self._transaction() as conn:
                self.projection.part_live(conn, self.state.generation, job.part)
                cp.delete_checkpoint(conn, job.key, SEGMENT)
            del self.backfills[job.part]
            log.info("group %s: %s caught up with the group and is live", self.name, job.part)
            self._show_backfills()
            return 0
        job.checkpoint, outcome = self._commit(
            events, job.key, job.checkpoint, self.state.generation, job.applier
        )
        self._show_backfills()
        if outcome.failure is not None:
            raise outcome.failure
        return outcome.consumed

    def _show_backfills(self) -> None:
        live = self.state.checkpoint.position
        self.state.backfills = [
            {"part": job.part, "position": job.checkpoint.position, "live_position": live}
            for job in self.backfills.values()
        ]

    def reconfigure(self, settings: Any) -> None:
        """Hot reload: take new settings between two batches of this group's thread."""
        with self._reconfigure_lock:
            self._pending_settings = settings

    def _apply_pending_settings(self) -> bool:
        with self._reconfigure_lock:
            settings, self._pending_settings = self._pending_settings, None
        if settings is None:
            return False
        self.projection.reconfigure(settings, self.group)
        return True

    def _commit(
        self,
        events: list[RecordedEvent],
        key: str,
        start: Checkpoint,
        generation: int,
        applier: BatchApplier,
    ) -> tuple[Checkpoint, Outcome]:
        """Apply events and move the checkpoint ``key`` in one transaction."""
        with self._transaction() as conn:
            outcome = applier.apply(conn, events, generation)
            end = events[outcome.consumed - 1].checkpoint if outcome.consumed else start
            if outcome.consumed:
                cp.advance_checkpoint(conn, key, SEGMENT, start, end)
        return end, outcome

    # --- one step -----------------------------------------------------------------------

    def step(self) -> int:
        """Process at most one batch; return how many events were consumed."""
        events = self.store.read_all(self.state.checkpoint, self.batch_size)
        if not events:
            return 0
        end, outcome = self._commit(
            events, self.name, self.state.checkpoint, self.state.generation, self.applier
        )
        self.state.checkpoint = end
        self._count(outcome.consumed)
        self.state.skipped = self.applier.skipped
        if outcome.failure is not None:
            raise outcome.failure
        return outcome.consumed

    def rebuild_step(self) -> int:
        """Advance a running replay by one batch; switch over once it meets the live group."""
        job = self.rebuild
        if job is None:
            return 0
        live = self.state.checkpoint
        events = [
            e for e in self.store.read_all(job.checkpoint, self.batch_size) if e.checkpoint <= live
        ]
        if not events:
            self._switch(job)
            return 0
        key = rb.rebuild_key(self.name, job.generation)
        job.checkpoint, outcome = self._commit(
            events, key, job.checkpoint, job.generation, job.applier
        )
        self.state.replay = {
            "generation": job.generation,
            "position": job.checkpoint.position,
            "live_position": live.position,
            "started_at": job.started_at.isoformat(),
        }
        if outcome.failure is not None:
            raise outcome.failure
        return outcome.consumed

    def _start_rebuild(self) -> None:
        generation = self.state.generation + 1
        key = rb.rebuild_key(self.name, generation)
        projection = self._factory()  # its own instance: every part live from the start
        with self._transaction() as conn:
            resumed = cp.load_checkpoint(conn, key, SEGMENT)
            if resumed == Checkpoint():
                projection.drop_generation(conn, generation)  # leftovers of an old attempt
            projection.prepare(conn, generation, fresh=resumed == Checkpoint())
            start = cp.ensure_checkpoint(conn, key, SEGMENT)
        applier = BatchApplier(
            self.name,
            projection,
            self.group.error_policy,
            exclude=rb.already_dead_lettered(self.name),
        )
        self.rebuild = rb.Rebuild(generation, start, applier)
        log.info("group %s: replay into generation %d from %s", self.name, generation, start)

    def _switch(self, job: rb.Rebuild) -> None:
        old = self.state.generation
        with self._transaction() as conn:
            cp.switch_generation(conn, self.name, job.generation)
            self.projection.drop_generation(conn, old)
            cp.delete_checkpoint(conn, rb.rebuild_key(self.name, job.generation), SEGMENT)
            bf.forget_other_backfills(conn, self.name, set())  # the replay covered them
            rb.finish_request(conn, self.name)
        self.projection = job.applier.projection
        self.applier = BatchApplier(self.name, self.projection, self.group.error_policy)
        self.backfills = {}
        self._show_backfills()
        self.state.generation = job.generation
        self.state.replay = None
        self.rebuild = None
        log.info("group %s: replay done, generation %d is live", self.name, job.generation)

    def _poll_requests(self) -> None:
        now = time.monotonic()
        if self.rebuild is not None or now - self._requests_checked_at < 1.0:
            return
        self._requests_checked_at = now
        with self.engine.connect() as conn:
            wanted = rb.replay_requested(conn, self.name)
        if wanted:
            self._start_rebuild()

    # --- the loop -----------------------------------------------------------------------

    def run(self, stop: threading.Event, waker: Waker, *, once: bool = False) -> None:
        handler_backoff = Backoff(self.settings.retry_initial_s, self.settings.retry_max_s)
        # --once: everything committed before the run started, even events that read_all
        # cannot return yet because an older transaction is still open (PostgreSQL).
        target: Checkpoint | None = None
        database_backoff = Backoff(0.5, 30.0)
        prepared = False
        while not stop.is_set():
            try:
                if not prepared:
                    self.prepare()
                    prepared = True
                if once and target is None:
                    target = self.store.last_committed()
                if self._apply_pending_settings():
                    self.prepare()
                self._poll_requests()
                seen = waker.sequence
                moved = self.step() + self.rebuild_step() + self.backfill_step()
                handler_backoff.reset()
                database_backoff.reset()
                self.state.state = (
                    "replaying" if self.rebuild or self.backfills
                    else ("running" if moved else "caught_up")
                )  # fmt: skip
                self.report()
                if not moved:
                    done = target is not None and self.state.checkpoint >= target
                    if once and done and self.rebuild is None and not self.backfills:
                        break
                    waker.wait(seen, self.settings.idle_wait_s)
            except HandlerFailedError as failure:
                self._error("retrying", failure)
                if once and handler_backoff.failures >= 3:
                    raise
                stop.wait(handler_backoff.next_delay())
            except CheckpointConflictError as conflict:
                self._error("error", conflict)
                prepared = False
                stop.wait(database_backoff.next_delay())
            except Exception as exc:
                if not is_infrastructure_error(exc) and once:
                    raise
                self._error("error", exc)
                prepared = False
                stop.wait(database_backoff.next_delay())
        self.state.state = "stopped"  # a clean exit: nobody is working on this group now
        self.report(force=True)

    def _error(self, state: str, exc: BaseException) -> None:
        log.warning("group %s: %s: %s", self.name, state, exc)
        self.state.state = state
        self.state.last_error = f"{type(exc).__name__}: {exc}"
        self.state.last_error_at = utc_now()
        self.report(force=True)

    def _count(self, consumed: int) -> None:
        now = time.monotonic()
        self.state.events_total += consumed
        self._recent.append((now, consumed))
        while self._recent and now - self._recent[0][0] > 5.0:
            self._recent.popleft()
        span = max(now - self._recent[0][0], 1.0) if self._recent else 1.0
        self.state.events_per_s = sum(n for _, n in self._recent) / span

    def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        changed = self.state.state != self._reported_state
        if not (force or changed or now - self._reported_at >= self.settings.status_interval_s):
            return
        if not self._recent or now - self._recent[-1][0] > 5.0:
            self.state.events_per_s = 0.0
        try:
            write_status(self.engine, self.state)
        except Exception as exc:  # status is best effort; the database may be down
            log.debug("group %s: status not written: %s", self.name, exc)
            return
        self._reported_at = now
        self._reported_state = self.state.state
