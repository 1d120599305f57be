"""Adding many rows into a read-model table in one go: insert, or merge into the row with the
same key (``ON CONFLICT … DO UPDATE``), straight through the driver.

- PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT … ON CONFLICT``.
  COPY's row formatting runs in psycopg's C code; arrays passed to ``unnest`` were formatted
  in Python (a regex per string) and took 40% longer on 25k bucket rows (measured).
- SQLite: ``executemany`` of one ``INSERT … ON CONFLICT`` (the loop runs in C).

SQLAlchemy Core's per-row parameter handling cost twice the upsert itself (profiled), which
is why neither goes through it. ``rows`` must hold each key at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection


def param_mark(conn: Connection) -> str:
    """The driver's positional parameter marker (psycopg ``%s``, sqlite3 ``?``)."""
    return "%s" if conn.dialect.name == "postgresql" else "?"


def upsert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: Sequence[str],
    merge: str,
) -> None:
    """Insert ``rows`` (values in ``columns`` order) into ``table``; a row whose ``key``
    exists is merged by ``merge``: ``SET`` assignments where ``t`` is the stored row and
    ``excluded`` the new one (``n = t.n + excluded.n``)."""
    if not rows:
        return
    names = ", ".join(columns)
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {merge}"
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(
            f"INSERT INTO {table} AS t ({names}) VALUES ({marks}) {conflict}", list(rows)
        )
        return
    staging = f"{table}_incoming"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        # one per connection; emptied after each use, so a second upsert in the same
        # transaction (a batch split in halves) never sees the first one's rows
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} AS t ({names}) SELECT {names} FROM {staging} {conflict}"
        )
        cursor.execute(f"TRUNCATE {staging}")
    finally:
        cursor.close()
