"""The event store on SQLAlchemy Core: SQLite (embedded default) and PostgreSQL.

Gap-safe reading
----------------
Positions come from a sequence, so on PostgreSQL a transaction holding a lower position can
commit after one holding a higher position. Each row records its writer's transaction id
(``pg_current_xact_id()``); ``read_all`` orders by ``(tx_id, position)`` and returns only
rows whose ``tx_id`` is below the oldest transaction still running
(``pg_snapshot_xmin(pg_current_snapshot())``), taken in a statement *before* the read. Any
later-committing writer has a transaction id at or above that bound, so it lands after the
reader's checkpoint, never behind it. Writers never wait on each other for this.

SQLite has one writer at a time (``BEGIN IMMEDIATE``), so commit order is position order;
``tx_id`` there is a per-transaction counter taken under the write lock, and the same
``(tx_id, position)`` order applies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from domain.clock import Clock, require_utc, utc_now
from domain.eventstore.engine import WRITE, make_engine
from domain.eventstore.port import EventStore, command_positions
from domain.eventstore.records import (
    START,
    Checkpoint,
    ConcurrencyError,
    DuplicateCommandError,
    EventStoreError,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)
from domain.eventstore.schema import commands, create_schema, events, snapshots

NOTIFY_CHANNEL = "ledgerlens_events"
_COLUMNS = (
    "position, tx_id, stream_id, stream_type, version, event_type, schema_version, "
    "occurred_at, recorded_at"
)
_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


class SqlEventStore(EventStore):
    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        payload = "payload::text, metadata::text" if self._postgres else "payload, metadata"
        self._select = f"SELECT {_COLUMNS}, {payload} FROM events"
        self._listener: Any = None  # pooled DBAPI connection that LISTENs (PostgreSQL)
        self._listener_lock = threading.Lock()

    @classmethod
    def open(
        cls, url: str, *, pool_size: int = 5, application_name: str = "ledgerlens"
    ) -> SqlEventStore:
        engine = make_engine(url, pool_size=pool_size, application_name=application_name)
        create_schema(engine)
        return cls(engine)

    # --- writing ------------------------------------------------------------------------

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]:
        meta = dict(metadata or {})
        if command_id is not None:
            meta.setdefault("command_id", command_id)
        recorded_at = require_utc(self._clock(), "recorded_at")
        try:
            with self._write() as conn:
                self._check_versions(conn, appends)
                tx_id = self._next_tx_id(conn)
                rows = _rows(appends, tx_id, recorded_at, meta)
                owners = command_positions(
                    command_id, [r["metadata"] for r in rows], [0] * len(rows)
                )
                self._refuse_duplicates(conn, list(owners))
                positions = self._insert(conn, rows)
                owners = command_positions(command_id, [r["metadata"] for r in rows], positions)
                if owners:
                    conn.execute(
                        commands.insert(),
                        [
                            {"command_id": owner, "recorded_at": recorded_at, "positions": owned}
                            for owner, owned in owners.items()
                        ],
                    )
                if self._postgres and rows:
                    conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}")
        except IntegrityError as exc:
            raise _integrity_error(exc, appends, command_id) from exc
        return [_recorded(row, position) for row, position in zip(rows, positions, strict=True)]

    def _refuse_duplicates(self, conn: Connection, command_ids: list[str]) -> None:
        for start in range(0, len(command_ids), 500):
            chunk = command_ids[start : start + 500]
            query = select(commands.c.command_id).where(commands.c.command_id.in_(chunk))
            handled = conn.execute(query).scalar()
            if handled is not None:
                raise DuplicateCommandError(handled)

    def _check_versions(self, conn: Connection, appends: Sequence[StreamAppend]) -> None:
        expected = {append.stream_id: append.expected_version for append in appends}
        if len(expected) != len(appends):
            raise ValueError("append_streams got the same stream twice; merge its events")
        actual: dict[str, int] = {}
        ids = list(expected)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = (
                select(events.c.stream_id, func.max(events.c.version))
                .where(events.c.stream_id.in_(chunk))
                .group_by(events.c.stream_id)
            )
            actual.update({row[0]: row[1] for row in conn.execute(query)})
        for stream_id, version in expected.items():
            if actual.get(stream_id, 0) != version:
                raise ConcurrencyError(stream_id, version, actual.get(stream_id, 0))

    def _next_tx_id(self, conn: Connection) -> int:
        if self._postgres:
            xact_id = conn.exec_driver_sql("SELECT pg_current_xact_id()::text::bigint")
            return int(xact_id.scalar_one())
        current = conn.exec_driver_sql("SELECT max(tx_id) FROM events").scalar()
        return int(current or 0) + 1

    def _insert(self, conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        statement = events.insert().returning(events.c.position, sort_by_parameter_order=True)
        return [row[0] for row in conn.execute(statement, rows)]

    def command_result(self, command_id: str) -> list[RecordedEvent] | None:
        with self.engine.connect() as conn:
            positions = self._command_positions(conn, command_id)
            if positions is None:
                return None
            if not positions:
                return []
            query = text(f"{self._select} WHERE position IN :positions ORDER BY position")
            query = query.bindparams(bindparam("positions", expanding=True))
            return self._records(conn.execute(query, {"positions": positions}))

    def _command_positions(self, conn: Connection, command_id: str) -> list[int] | None:
        query = select(commands.c.positions).where(commands.c.command_id == command_id)
        positions = conn.execute(query).scalar()
        return None if positions is None else [int(p) for p in positions]

    # --- reading ------------------------------------------------------------------------

    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        query = text(
            f"{self._select} WHERE stream_id = :stream_id AND version > :after ORDER BY version"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"stream_id": stream_id, "after": after_version})
            return self._records(rows)

    def read_all(self, after: Checkpoint = START, limit: int = 1000) -> list[RecordedEvent]:
        params: dict[str, Any] = {"tx": after.tx_id, "pos": after.position, "limit": limit}
        where = "(tx_id > :tx OR (tx_id = :tx AND position > :pos))"
        with self.engine.connect() as conn:
            if self._postgres:
                params["xmin"] = conn.exec_driver_sql(_XMIN).scalar_one()
                where += " AND tx_id < :xmin"
            query = text(f"{self._select} WHERE {where} ORDER BY tx_id, position LIMIT :limit")
            return self._records(conn.execute(query, params))

    def head(self) -> Checkpoint:
        with self.engine.connect() as conn:
            params: dict[str, Any] = {}
            where = ""
            if self._postgres:
                params["xmin"] = conn.exec_driver_sql(_XMIN).scalar_one()
                where = "WHERE tx_id < :xmin"
            query = text(
                f"SELECT tx_id, position FROM events {where} "
                "ORDER BY tx_id DESC, position DESC LIMIT 1"
            )
            row = conn.execute(query, params).first()
        return START if row is None else Checkpoint(int(row[0]), int(row[1]))

    def _records(self, rows: Any) -> list[RecordedEvent]:
        loads = orjson.loads
        if self._postgres:
            return [
                RecordedEvent(
                    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], loads(r[9]), loads(r[10])
                )
                for r in rows
            ]
        parse = datetime.fromisoformat
        return [
            RecordedEvent(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                parse(r[7]),
                parse(r[8]),
                loads(r[9]),
                loads(r[10]),
            )
            for r in rows
        ]

    # --- waiting ------------------------------------------------------------------------

    def wait_for_new(self, timeout: float, after: Checkpoint | None = None) -> bool:
        if after is not None and self.head() > after:
            return True
        if self._postgres:
            return self._wait_for_notify(timeout)
        return self._poll(timeout, after)

    def _poll(self, timeout: float, after: Checkpoint | None) -> bool:
        baseline = after if after is not None else self.head()
        stop = threading.Event()
        deadline = self._monotonic() + timeout
        while (remaining := deadline - self._monotonic()) > 0:
            stop.wait(min(0.02, remaining))
            if self.head() > baseline:
                return True
        return False

    def _wait_for_notify(self, timeout: float) -> bool:
        with self._listener_lock:
            try:
                if self._listener is None:
                    self._listener = self._listen()
                    return True  # events may have come before LISTEN: let the caller read
                driver = self._listener.driver_connection
                for _ in driver.notifies(timeout=timeout, stop_after=1):
                    for _ in driver.notifies(timeout=0.001):
                        pass  # drain: one wake-up covers every pending notification
                    return True
                return False
            except DBAPIError:
                self._drop_listener(invalidate=True)
                return True
            except Exception as exc:  # a broken socket surfaces as psycopg errors too
                if type(exc).__module__.startswith("psycopg"):
                    self._drop_listener(invalidate=True)
                    return True
                raise

    def _listen(self) -> Any:
        pooled = self.engine.raw_connection()  # counted in the bounded pool
        driver = pooled.driver_connection
        assert driver is not None
        driver.autocommit = True
        driver.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return pooled

    def _drop_listener(self, *, invalidate: bool) -> None:
        pooled, self._listener = self._listener, None
        if pooled is None:
            return
        if invalidate:
            pooled.invalidate()
            return
        try:
            driver = pooled.driver_connection
            driver.execute(f"UNLISTEN {NOTIFY_CHANNEL}")
            driver.autocommit = False
        finally:
            pooled.close()  # back to the pool

    @staticmethod
    def _monotonic() -> float:
        import time

        return time.monotonic()

    # --- snapshots ----------------------------------------------------------------------

    def save_snapshot(self, snapshot: Snapshot) -> None:
        insert = pg_insert if self._postgres else sqlite_insert
        values = {
            "stream_id": snapshot.stream_id,
            "stream_type": snapshot.stream_type,
            "version": snapshot.version,
            "state_version": snapshot.state_version,
            "state": snapshot.state,
            "taken_at": require_utc(snapshot.taken_at, "taken_at"),
        }
        statement = insert(snapshots).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[snapshots.c.stream_id],
            set_={k: statement.excluded[k] for k in values if k != "stream_id"},
            where=snapshots.c.version < statement.excluded.version,
        )
        with self._write() as conn:
            conn.execute(statement)

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(snapshots).where(snapshots.c.stream_id == stream_id)).first()
        if row is None:
            return None
        return Snapshot(
            row.stream_id,
            row.stream_type,
            row.version,
            row.state_version,
            dict(row.state),
            row.taken_at,
        )

    # --- lifecycle ----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    def close(self) -> None:
        with self._listener_lock:
            try:
                self._drop_listener(invalidate=False)
            except Exception:
                self._drop_listener(invalidate=True)
        self.engine.dispose()


def _rows(
    appends: Sequence[StreamAppend], tx_id: int, recorded_at: datetime, meta: dict[str, Any]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for append in appends:
        for offset, new in enumerate(append.events, start=1):
            occurred_at = recorded_at if new.occurred_at is None else new.occurred_at
            rows.append(
                {
                    "tx_id": tx_id,
                    "stream_id": append.stream_id,
                    "stream_type": append.stream_type,
                    "version": append.expected_version + offset,
                    "event_type": new.event_type,
                    "schema_version": new.schema_version,
                    "occurred_at": require_utc(occurred_at, "occurred_at"),
                    "recorded_at": recorded_at,
                    "payload": dict(new.payload),
                    "metadata": meta if new.metadata is None else {**meta, **new.metadata},
                }
            )
    return rows


def _recorded(row: dict[str, Any], position: int) -> RecordedEvent:
    return RecordedEvent(
        position=position,
        tx_id=row["tx_id"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        version=row["version"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        payload=row["payload"],
        metadata=row["metadata"],
    )


def _integrity_error(
    exc: IntegrityError, appends: Sequence[StreamAppend], command_id: str | None
) -> EventStoreError:
    message = str(exc.orig)
    if "commands" in message:
        return DuplicateCommandError(command_id or "(one of the batch's commands)")
    if "events_stream_version" in message or "events.stream_id" in message:
        streams = ", ".join(a.stream_id for a in appends)
        first = appends[0]
        error = ConcurrencyError(first.stream_id, first.expected_version, None)
        error.args = (f"concurrent append to one of: {streams}",)
        return error
    return EventStoreError(f"append failed: {message}")
