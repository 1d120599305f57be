"""Test hooks inside the SQL store's append transaction (``domain/eventstore/sql_write.py``).

In production a PostgreSQL append is ONE autocommit statement, so no Python code runs while
its transaction is open. Concurrency tests need to hold that transaction open (as a slow
statement or a busy server would): ``TransactionSession`` runs the store's own append
statement(s) inside an explicit ``BEGIN`` ... ``COMMIT`` and calls ``inside(rows, insert)``
there; a subclass overrides ``inside`` to sleep, wait or insert row by row. On SQLite the
append already runs inside the session's ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.eventstore import RecordedEvent
from domain.eventstore.sql import SqlEventStore
from domain.eventstore.sql_write import Row, SqlSession

Insert = Callable[[list[Row]], list[RecordedEvent]]


def use_sessions(store: SqlEventStore, session_class: type[SqlSession], /, **kwargs: Any) -> None:
    """Make ``store`` open its sessions as ``session_class(..., **kwargs)``."""
    store._writer.session_class = functools.partial(session_class, **kwargs)


class TransactionSession(SqlSession):
    def inside(self, rows: list[Row], insert: Insert) -> list[RecordedEvent]:
        """Runs inside the append's transaction; ``insert`` appends rows (PostgreSQL: may be
        called once per part, all in the same transaction)."""
        return insert(rows)

    def _append_postgres(
        self, rows: list[Row], recorded_at: datetime, command_id: str | None
    ) -> list[RecordedEvent]:
        def insert(part: list[Row]) -> list[RecordedEvent]:
            return SqlSession._append_postgres(self, part, recorded_at, command_id)

        self._execute("BEGIN")
        try:
            recorded = self.inside(rows, insert)
            self._execute("COMMIT")
        except BaseException:
            self._cursor.execute("ROLLBACK")
            raise
        return recorded

    def _append_sqlite(
        self, rows: list[Row], recorded_at: datetime, command_id: str | None
    ) -> list[RecordedEvent]:
        def insert(part: list[Row]) -> list[RecordedEvent]:
            assert part is rows, "SQLite takes a new tx_id per call: insert all rows at once"
            return SqlSession._append_sqlite(self, part, recorded_at, command_id)

        return self.inside(rows, insert)
