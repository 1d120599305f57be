"""The SQL event store's write path: one pooled driver connection per unit of work.

``SqlWriter.session()`` checks one connection out of the engine's bounded pool and returns a
``SqlSession``: what a unit of work loads its aggregates through (snapshot + stream tail in
ONE statement) and appends through. Statements go straight to the driver (sqlite3,
psycopg 3) with tuples: SQLAlchemy Core's compile, cache-key and result machinery cost
several times the statements themselves on this path. Driver errors are re-raised as
SQLAlchemy's exceptions (``OperationalError``, ``connection_invalidated`` ...), like every
other store call, and a broken connection is invalidated together with the pool's others.

SQLite: a session starts with ``BEGIN IMMEDIATE``: the write lock is taken before the loads,
so the versions a unit of work loaded cannot change before its append (no lock upgrade can
fail), and the whole attempt commits when the block ends. It then reads ``max(tx_id)`` (its
append's ``tx_id`` is the next one), which also tells the writer's ``WriteChain`` whether
anyone else appended since its previous write session: an aggregate kept from an earlier
session whose stream no one appended to since is used without reading it (``trusts``).
A one-event append takes its position from ``lastrowid`` (no ``RETURNING``).

PostgreSQL: a session runs in autocommit. Under READ COMMITTED every statement reads its own
snapshot anyway, so a transaction around the loads would cost two round trips and guarantee
nothing more. The append is ONE statement (the events, their ``commands`` rows and the
NOTIFY), atomic by itself; its ``tx_id`` is its own ``pg_current_xact_id()``.

Optimistic concurrency on both: a stale expected version makes the insert hit the unique
``(stream_id, version)`` constraint (``ConcurrencyError``; the versions are read back on that
error path only, for the message). An expected version ahead of the stream is checked by a
query before the insert, except for streams whose current version this session has just
loaded (the domain path). A command id recorded before makes the ``commands`` primary key
refuse the append (``DuplicateCommandError``); nothing is looked up beforehand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from types import TracebackType
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from domain.clock import Clock, require_utc
from domain.eventstore.port import command_positions, in_time_order
from domain.eventstore.records import (
    ConcurrencyError,
    DuplicateCommandError,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)
from domain.eventstore.schema import sqlite_timestamp
from domain.eventstore.sql_rows import append_error, conflict, decode_rows, select_events

NOTIFY_CHANNEL = "ledgerlens_events"
DEADLOCK_DETECTED = "40P01"
_CHUNK = 500  # ids per IN (...) list
_SQLITE_ROWS_PER_INSERT = 1000  # 10 parameters a row, well under SQLite's 32,766
_EVENT_COLUMNS = (
    "tx_id, stream_id, stream_type, version, event_type, schema_version, occurred_at, "
    "recorded_at, payload, metadata"
)
_SQLITE_COMMAND = "INSERT INTO commands (command_id, recorded_at, positions) VALUES (?, ?, ?)"
_SQLITE_MAX_TX = "SELECT max(tx_id) FROM events"
# One row: no RETURNING (it costs ~3 us a statement); the position is the cursor's lastrowid
# (``position`` is the table's INTEGER PRIMARY KEY, so the rowid).
_SQLITE_INSERT_ONE = f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_SNAPSHOT_COLUMNS = "stream_id, stream_type, version, state_version, state, taken_at"
_SNAPSHOT_UPSERT = (
    "ON CONFLICT (stream_id) DO UPDATE SET stream_type = excluded.stream_type, "
    "version = excluded.version, state_version = excluded.state_version, "
    "state = excluded.state, taken_at = excluded.taken_at "
    "WHERE snapshots.version < excluded.version"
)
# PostgreSQL: the whole append in one statement. Positions follow the arrays' order.
_PG_APPEND = f"""
WITH ins AS (
  INSERT INTO events ({_EVENT_COLUMNS})
  SELECT pg_current_xact_id()::text::bigint, s, t, v, e, sv, o, %(recorded_at)s, p::jsonb, m::jsonb
  FROM unnest(%(stream_id)s::text[], %(stream_type)s::text[], %(version)s::int[],
              %(event_type)s::text[], %(schema_version)s::int[], %(occurred_at)s::timestamptz[],
              %(payload)s::text[], %(metadata)s::text[]) WITH ORDINALITY
       AS u(s, t, v, e, sv, o, p, m, n)
  ORDER BY n
  RETURNING position, tx_id, stream_id, version, metadata->>'command_id' AS owner
), owned AS (
  SELECT owner, jsonb_agg(position ORDER BY position) AS positions
  FROM ins WHERE owner IS NOT NULL GROUP BY owner
  UNION ALL
  SELECT %(command_id)s::text, '[]'::jsonb
  WHERE %(command_id)s::text IS NOT NULL
    AND NOT EXISTS (SELECT FROM ins WHERE owner = %(command_id)s::text)
), cmd AS (
  INSERT INTO commands (command_id, recorded_at, positions)
  SELECT owner, %(recorded_at)s, positions FROM owned
), note AS (
  SELECT pg_notify('{NOTIFY_CHANNEL}', '') FROM (SELECT FROM ins LIMIT 1) AS one
)
SELECT position, tx_id, stream_id, version FROM ins, note
"""

Row = tuple[str, str, int, str, int, datetime, dict[str, Any], dict[str, Any]]
WRITTEN_CAPACITY = 100_000  # streams whose last append a SQLite writer remembers


class WriteChain:
    """What one SQLite writer knows of the store's latest transactions, so a unit of work can
    trust an aggregate kept since an earlier one without reading its stream again.

    Changed only inside this writer's write sessions, under SQLite's write lock, so in the
    order the transactions took it. ``tx_id`` grows by one per appending transaction, so a
    session that finds ``max(tx_id)`` equal to ``last_tx`` knows no one else appended since
    this writer's previous write session; each session that finds otherwise moves ``since``
    up to what it found. An aggregate current as of ``tx`` (``WarmStamp``) is therefore
    still current if ``tx >= since`` (every transaction after it was this writer's) and
    this writer's last append to its stream was at or before ``tx``. A transaction that
    never commits only makes this more careful (its streams and ``last_tx`` look newer).
    """

    def __init__(self) -> None:
        self.last_tx: int | None = None  # max(tx_id) when this writer's last write session ended
        self.since: int | None = None  # every transaction after it, to last_tx, was this writer's
        self.written: dict[str, int] = {}  # stream -> tx of this writer's last append to it
        self.floor = 0  # streams no longer in ``written`` were last appended at or before it

    def observe(self, max_tx: int) -> None:
        """A write session found ``max_tx`` under the write lock."""
        if max_tx != self.last_tx:
            self.since = max_tx  # another writer appended: nothing older is vouched for
        self.last_tx = max_tx

    def appended(self, stream_ids: Iterable[str], tx_id: int) -> None:
        self.last_tx = tx_id
        written = self.written
        for stream_id in stream_ids:
            written.pop(stream_id, None)
            written[stream_id] = tx_id
        while len(written) > WRITTEN_CAPACITY:
            oldest = next(iter(written))
            self.floor = max(self.floor, written.pop(oldest))

    def vouches(self, stream_id: str, tx: int) -> bool:
        """Is a stream as it stood at ``tx`` still as it stands (see the class docstring)?"""
        since = self.since
        return since is not None and tx >= since and self.written.get(stream_id, self.floor) <= tx


class WarmStamp(NamedTuple):
    """Aggregates loaded (and appended to) in a committed SQLite write session are current
    as of ``tx`` of ``chain``'s store."""

    chain: WriteChain
    tx: int


class SqlWriter:
    """The statements of one store's dialect, and the sessions that run them."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.postgres = engine.dialect.name == "postgresql"
        self.dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        m = "%s" if self.postgres else "?"
        text = "::text" if self.postgres else ""
        select = select_events(self.postgres)
        self.load_stream_sql = f"{select} WHERE stream_id = {m} AND version > {m} ORDER BY version"
        s = "%(s)s" if self.postgres else "?1"
        # The snapshot (marked by position -1) and the events after it, ordered by version.
        self.load_latest_sql = (
            f"SELECT -1, state_version, stream_id, stream_type, version, '', state_version, "
            f"taken_at, taken_at, state{text}, '{{}}' FROM snapshots WHERE stream_id = {s} "
            f"UNION ALL {select} WHERE stream_id = {s} AND version > "
            f"coalesce((SELECT version FROM snapshots WHERE stream_id = {s}), 0) ORDER BY 5"
        )
        self.load_snapshot_sql = (
            f"SELECT stream_id, stream_type, version, state_version, state{text}, taken_at "
            f"FROM snapshots WHERE stream_id = {m}"
        )
        self.save_snapshot_sql = (
            f"INSERT INTO snapshots ({_SNAPSHOT_COLUMNS}) VALUES "
            f"({m}, {m}, {m}, {m}, {m}{'::jsonb' if self.postgres else ''}, {m}) "
            f"{_SNAPSHOT_UPSERT}"
        )
        self.positions_sql = f"SELECT positions{text} FROM commands WHERE command_id = {m}"
        self.events_at_sql = f"{select} WHERE position IN ({{}}) ORDER BY position"
        self.versions_sql = (
            "SELECT stream_id, max(version) FROM events WHERE stream_id IN ({}) GROUP BY stream_id"
        )
        self.handled_sql = "SELECT command_id FROM commands WHERE command_id IN ({}) LIMIT 1"
        self.mark = m
        self.session_class: Callable[..., SqlSession] = SqlSession  # tests wrap appends
        self.chain = None if self.postgres else WriteChain()

    def session(self, *, write: bool = True) -> SqlSession:
        """A unit of work on one connection (see the module docstring); ``write=False``
        for reads and single-statement writes (no transaction on SQLite either)."""
        return self.session_class(self, write=write)

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)


class SqlSession:
    """One checked-out connection; use as ``with writer.session() as session: ...``."""

    def __init__(self, writer: SqlWriter, *, write: bool) -> None:
        self._writer = writer
        self._write = write and not writer.postgres  # SQLite's BEGIN IMMEDIATE ... COMMIT
        self._in_transaction = False
        self._connection: Any = None
        self._cursor: Any = None
        self._versions: dict[str, int] = {}  # stream id -> its version, as loaded here
        self._max_tx = 0  # SQLite write session: max(tx_id), read right after BEGIN IMMEDIATE

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> SqlSession:
        writer = self._writer
        try:
            self._connection = writer.engine.raw_connection()
        except writer.dbapi_error as exc:
            raise _wrapped(writer, exc, "connect", invalidated=True) from exc
        try:
            if writer.postgres:
                driver = self._connection.driver_connection
                if driver.info.transaction_status:  # not idle (e.g. after a pre-ping)
                    driver.rollback()
                driver.autocommit = True
            self._cursor = self._connection.cursor()
            if self._write:
                self._execute("BEGIN IMMEDIATE")
                self._in_transaction = True
                self._max_tx = int(self._execute(_SQLITE_MAX_TX).fetchone()[0] or 0)
                if writer.chain is not None:
                    writer.chain.observe(self._max_tx)
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._in_transaction:
                self._in_transaction = False
                if exc_type is None:
                    self._execute("COMMIT")
                else:
                    self._quiet_rollback()
        finally:
            self._release()

    def _release(self) -> None:
        """Back to the pool (whose reset rolls back whatever a failure left open)."""
        connection, self._connection = self._connection, None
        if connection is None or not connection.is_valid:
            return  # never checked out, or invalidated (and so returned) already
        try:
            if self._cursor is not None:
                self._cursor.close()
            if self._writer.postgres:
                connection.driver_connection.autocommit = False
        except Exception as exc:  # a broken connection: never hand it out again
            connection.invalidate(exc)
            return
        connection.close()

    def _quiet_rollback(self) -> None:
        try:
            self._cursor.execute("ROLLBACK")
        except Exception as exc:  # the pool must not reuse a connection in an unknown state
            self._connection.invalidate(exc)

    def _execute(self, sql: str, params: Any = ()) -> Any:
        try:
            self._cursor.execute(sql, params)
        except self._writer.dbapi_error as exc:
            raise self._error(exc, sql) from exc
        return self._cursor

    def _executemany(self, sql: str, params: list[tuple[Any, ...]]) -> None:
        try:
            self._cursor.executemany(sql, params)
        except self._writer.dbapi_error as exc:
            raise self._error(exc, sql) from exc

    def _error(self, exc: Exception, sql: str) -> BaseException:
        writer = self._writer
        connection = self._connection
        error: Any = exc  # the driver's own Error class
        invalidated = writer.engine.dialect.is_disconnect(
            error, connection.dbapi_connection, self._cursor
        )
        if invalidated:  # as SQLAlchemy does: this connection and every older one go
            self._in_transaction = False
            writer.engine.pool._invalidate(connection, exc)
        return _wrapped(writer, exc, sql, invalidated=invalidated)

    # --- reading ------------------------------------------------------------------------

    def load_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        sql = self._writer.load_stream_sql
        rows = self._execute(sql, (stream_id, after_version)).fetchall()
        records = decode_rows(rows, timestamps_are_text=not self._writer.postgres)
        if records:
            self._versions[stream_id] = records[-1].version
        elif after_version == 0:
            self._versions[stream_id] = 0
        return records

    def load_latest(self, stream_id: str) -> tuple[Snapshot | None, list[RecordedEvent]]:
        writer = self._writer
        params = {"s": stream_id} if writer.postgres else (stream_id,)
        rows = self._execute(writer.load_latest_sql, params).fetchall()
        snapshot = None
        if rows and rows[0][0] == -1:
            first = rows.pop(0)
            snapshot = self._snapshot(first[2], first[3], first[4], first[6], first[9], first[7])
        records = decode_rows(rows, timestamps_are_text=not writer.postgres)
        current = records[-1].version if records else snapshot.version if snapshot else 0
        self._versions[stream_id] = current
        return snapshot, records

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        row = self._execute(self._writer.load_snapshot_sql, (stream_id,)).fetchone()
        return None if row is None else self._snapshot(*row)

    def _snapshot(
        self,
        stream_id: str,
        stream_type: str,
        version: int,
        state_version: int,
        state: str | bytes,
        taken_at: str | datetime,
    ) -> Snapshot:
        if isinstance(taken_at, str):
            taken_at = datetime.fromisoformat(taken_at)
        return Snapshot(
            stream_id, stream_type, version, int(state_version), orjson.loads(state), taken_at
        )

    @property
    def warm_stamp(self) -> WarmStamp | None:
        """SQLite write sessions, once committed: what ``trusts`` takes for the aggregates
        this session loaded and appended to (None elsewhere)."""
        chain = self._writer.chain
        if chain is None or not self._write:
            return None
        return WarmStamp(chain, self._max_tx)

    def trusts(self, stream_id: str, version: int, stamp: object) -> bool:
        """May a unit of work use an aggregate of ``stream_id`` at ``version``, current as
        of ``stamp`` (an earlier session's ``warm_stamp``), without reading its stream? Only
        inside a SQLite write session, whose lock keeps the answer true until it ends."""
        if not self._in_transaction or not isinstance(stamp, WarmStamp):
            return False
        chain = self._writer.chain
        if stamp.chain is not chain or chain is None or not chain.vouches(stream_id, stamp.tx):
            return False
        self._versions[stream_id] = version
        return True

    def command_result(self, command_id: str) -> list[RecordedEvent] | None:
        row = self._execute(self._writer.positions_sql, (command_id,)).fetchone()
        if row is None:
            return None
        positions = [int(p) for p in orjson.loads(row[0])]
        if not positions:
            return []
        sql = self._writer.events_at_sql.format(self._writer.marks(len(positions)))
        rows = self._execute(sql, positions).fetchall()
        return decode_rows(rows, timestamps_are_text=not self._writer.postgres)

    # --- writing ------------------------------------------------------------------------

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep the newest snapshot of a stream (one statement, atomic by itself)."""
        taken_at: Any = require_utc(snapshot.taken_at, "taken_at")
        if not self._writer.postgres:
            taken_at = sqlite_timestamp(taken_at)
        state = orjson.dumps(snapshot.state).decode()
        self._execute(
            self._writer.save_snapshot_sql,
            (snapshot.stream_id, snapshot.stream_type, snapshot.version,
             snapshot.state_version, state, taken_at),
        )  # fmt: skip

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        metadata: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> list[RecordedEvent]:
        """``EventStore.append_streams`` inside this session (committed with it on SQLite)."""
        if len(appends) > 1 and len({append.stream_id for append in appends}) != len(appends):
            raise ValueError("append_streams got the same stream twice; merge its events")
        meta = dict(metadata or {})
        if command_id is not None:
            meta.setdefault("command_id", command_id)
        writer = self._writer
        recorded_at = require_utc(writer.clock(), "recorded_at")
        rows = _rows(appends, meta, recorded_at)
        if not rows and command_id is None:
            return []
        try:
            self._check_ahead(appends)
            if writer.postgres:
                return self._append_postgres(rows, recorded_at, command_id)
            return self._append_sqlite(rows, recorded_at, command_id)
        except IntegrityError as exc:
            self._abort()
            raise self._refusal(exc, appends, command_id, rows) from exc
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
            raise conflict(appends, "deadlock between crossing multi-stream appends") from exc

    def _check_ahead(self, appends: Sequence[StreamAppend]) -> None:
        """Refuse an expected version beyond the stream's end (a stale one hits the unique
        constraint). Streams loaded in this session are known and skip the query."""
        known = self._versions
        unsure = [
            a
            for a in appends
            if a.expected_version and known.get(a.stream_id) != a.expected_version
        ]
        if not unsure:
            return
        actual = self._current_versions([a.stream_id for a in unsure])
        for append in unsure:
            found = actual.get(append.stream_id, 0)
            if found != append.expected_version:
                raise ConcurrencyError(append.stream_id, append.expected_version, found)

    def _current_versions(self, stream_ids: list[str]) -> dict[str, int]:
        actual: dict[str, int] = {}
        for start in range(0, len(stream_ids), _CHUNK):
            chunk = stream_ids[start : start + _CHUNK]
            sql = self._writer.versions_sql.format(self._writer.marks(len(chunk)))
            actual.update({row[0]: int(row[1]) for row in self._execute(sql, chunk)})
        return actual

    def _append_sqlite(
        self, rows: list[Row], recorded_at: datetime, command_id: str | None
    ) -> list[RecordedEvent]:
        if not self._in_transaction:
            raise RuntimeError("a SQLite append needs a writing session (BEGIN IMMEDIATE)")
        tx_id = self._max_tx + 1  # read under this session's write lock (``__enter__``)
        stamp = sqlite_timestamp(recorded_at)
        dumps = orjson.dumps
        if len(rows) == 1:  # one event (most commands): its position is the new rowid
            stream_id, kind, version, event_type, schema, occurred, payload, meta = rows[0]
            cursor = self._execute(
                _SQLITE_INSERT_ONE,
                (tx_id, stream_id, kind, version, event_type, schema, sqlite_timestamp(occurred),
                 stamp, dumps(payload).decode(), dumps(meta).decode()),
            )  # fmt: skip
            ordered = [cursor.lastrowid]
        else:
            ordered = self._insert_sqlite_rows(rows, tx_id, stamp)
        owners = command_positions(command_id, [row[7] for row in rows], ordered)
        if len(owners) == 1:
            for owner, owned in owners.items():
                self._execute(_SQLITE_COMMAND, (owner, stamp, dumps(owned).decode()))
        elif owners:
            handled = [(owner, stamp, dumps(owned).decode()) for owner, owned in owners.items()]
            self._executemany(_SQLITE_COMMAND, handled)
        if rows:
            self._max_tx = tx_id
            if self._writer.chain is not None:
                self._writer.chain.appended((row[0] for row in rows), tx_id)
        return _recorded(rows, ordered, tx_id, recorded_at)

    def _insert_sqlite_rows(self, rows: list[Row], tx_id: int, stamp: str) -> list[int]:
        """Multi-row INSERTs of ``rows``; their positions, in the rows' order."""
        dumps = orjson.dumps
        positions: dict[tuple[str, int], int] = {}
        last_in: datetime | None = None
        last_out = ""
        for start in range(0, len(rows), _SQLITE_ROWS_PER_INSERT):
            chunk = rows[start : start + _SQLITE_ROWS_PER_INSERT]
            params: list[Any] = []
            for stream_id, kind, version, event_type, schema, occurred, payload, meta in chunk:
                if occurred is not last_in:
                    last_in, last_out = occurred, sqlite_timestamp(occurred)
                params += (tx_id, stream_id, kind, version, event_type, schema, last_out,
                           stamp, dumps(payload).decode(), dumps(meta).decode())  # fmt: skip
            sql = _sqlite_insert_many(len(chunk))
            positions.update({(r[0], r[1]): r[2] for r in self._execute(sql, params).fetchall()})
        return [positions[(row[0], row[2])] for row in rows]

    def _append_postgres(
        self, rows: list[Row], recorded_at: datetime, command_id: str | None
    ) -> list[RecordedEvent]:
        dumps = orjson.dumps
        params = {
            "recorded_at": recorded_at,
            "command_id": command_id,
            "stream_id": [r[0] for r in rows],
            "stream_type": [r[1] for r in rows],
            "version": [r[2] for r in rows],
            "event_type": [r[3] for r in rows],
            "schema_version": [r[4] for r in rows],
            "occurred_at": [r[5] for r in rows],
            "payload": [dumps(r[6]).decode() for r in rows],
            "metadata": [dumps(r[7]).decode() for r in rows],
        }
        result = self._execute(_PG_APPEND, params).fetchall()
        if not rows:
            return []
        by_key = {(r[2], r[3]): r[0] for r in result}
        ordered = [by_key[(row[0], row[2])] for row in rows]
        return _recorded(rows, ordered, int(result[0][1]), recorded_at)

    def _abort(self) -> None:
        """After a refused append: the transaction (SQLite) can only be rolled back."""
        if self._in_transaction:
            self._in_transaction = False
            self._quiet_rollback()

    def _refusal(
        self,
        exc: IntegrityError,
        appends: Sequence[StreamAppend],
        command_id: str | None,
        rows: list[Row],
    ) -> Exception:
        """The precise error for a refused append, looked up on this error path only."""
        error = append_error(exc, appends, command_id)
        try:
            if isinstance(error, ConcurrencyError):
                actual = self._current_versions([a.stream_id for a in appends])
                for append in appends:
                    found = actual.get(append.stream_id, 0)
                    if found != append.expected_version:
                        return ConcurrencyError(append.stream_id, append.expected_version, found)
            elif isinstance(error, DuplicateCommandError):
                owners = list(command_positions(command_id, [r[7] for r in rows], [0] * len(rows)))
                if len(owners) == 1:
                    return DuplicateCommandError(owners[0])
                for start in range(0, len(owners), _CHUNK):
                    chunk = owners[start : start + _CHUNK]
                    sql = self._writer.handled_sql.format(self._writer.marks(len(chunk)))
                    handled = self._execute(sql, chunk).fetchone()
                    if handled is not None:
                        return DuplicateCommandError(handled[0])
        except DBAPIError:
            pass  # the general error below still says what happened
        return error


def _rows(
    appends: Sequence[StreamAppend], meta: dict[str, Any], recorded_at: datetime
) -> list[Row]:
    runs: list[list[Row]] = []
    last_in: datetime | None = None
    last_out = recorded_at
    for append in appends:
        version = append.expected_version
        stream_id, stream_type = append.stream_id, append.stream_type
        runs.append(rows := [])
        for new in append.events:
            version += 1
            occurred = new.occurred_at
            if occurred is None:
                occurred = recorded_at
            elif occurred is not last_in:  # a command's events share one moment
                last_in, last_out = occurred, require_utc(occurred, "occurred_at")
                occurred = last_out
            else:
                occurred = last_out
            extra = new.metadata
            rows.append(
                (stream_id, stream_type, version, new.event_type, new.schema_version, occurred,
                 dict(new.payload), dict(meta) if extra is None else {**meta, **extra})
            )  # fmt: skip
    return in_time_order(runs, _OCCURRED)


_OCCURRED = itemgetter(5)


@functools.lru_cache(maxsize=64)
def _sqlite_insert_many(count: int) -> str:
    """The INSERT of ``count`` event rows, returning each row's key and position."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * count)
    return (
        f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES {values} "
        "RETURNING stream_id, version, position"
    )


def _recorded(
    rows: list[Row], positions: list[int], tx_id: int, recorded_at: datetime
) -> list[RecordedEvent]:
    return [
        RecordedEvent(position, tx_id, r[0], r[1], r[2], r[3], r[4], r[5], recorded_at, r[6], r[7])
        for r, position in zip(rows, positions, strict=True)
    ]


def _wrapped(writer: SqlWriter, exc: Exception, sql: str, *, invalidated: bool) -> BaseException:
    """The driver's error as SQLAlchemy raises it elsewhere (``OperationalError`` ...)."""
    return DBAPIError.instance(
        sql,
        None,
        exc,
        writer.dbapi_error,
        hide_parameters=True,
        connection_invalidated=invalidated,
        dialect=writer.engine.dialect,
    )
