"""SQLAlchemy engines with one bounded pool per database (the seed's lesson 2).

SQLite runs in WAL mode with its own BEGIN handling (``BEGIN IMMEDIATE`` for writers, so a
read-then-write transaction never dies of a lock upgrade); PostgreSQL sessions run in UTC.

Stale connections (a PostgreSQL restart): a checkout pings a connection only when it sat
unused in the pool for ``PING_AFTER_IDLE`` seconds or more (a dead one is replaced, and the
pool's other connections with it), not on every checkout: that ping was one more round trip
per store call. A connection that broke while in recent use fails its next statement once
(``OperationalError``, ``connection_invalidated``), which invalidates the whole pool, so the
caller's retry reconnects. SQLite connections (a local file) are never pinged.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool

WRITE = "ledgerlens_write"  # execution option: this connection's transactions will write
PING_AFTER_IDLE = 1.0  # seconds in the pool after which a PostgreSQL checkout pings first
_IDLE_SINCE = "ledgerlens_idle_since"


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def dialect_insert(conn: Connection) -> Any:
    """The connection's dialect-specific ``insert`` (both have ``on_conflict_do_*``)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def is_sqlite(engine_or_url: Engine | URL | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(
    url: str | URL,
    *,
    pool_size: int = 5,
    application_name: str = "ledgerlens",
    read_only: bool = False,
    pool_timeout: float = 30.0,
    ping_after_idle: float = PING_AFTER_IDLE,
) -> Engine:
    """An engine whose pool never holds more than ``pool_size`` connections.

    PostgreSQL connections idle for ``ping_after_idle`` seconds are pinged on checkout
    (0: on every checkout)."""
    parsed = make_url(url)
    common: dict[str, Any] = {
        "poolclass": QueuePool,
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout,
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, read_only=read_only, **common)
    if parsed.get_backend_name() == "postgresql":
        engine = _postgres_engine(parsed, application_name, read_only=read_only, **common)
        _ping_after_idle(engine, ping_after_idle)
        return engine
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}")


def _ping_after_idle(engine: Engine, seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < seconds:
            return  # just connected, or in use a moment ago
        try:
            dbapi_connection.autocommit = True  # one round trip, no transaction left open
            try:
                dbapi_connection.execute("SELECT 1")
            finally:
                dbapi_connection.autocommit = False
        except Exception as exc:
            error: Any = exc  # the driver's own Error class
            if engine.dialect.is_disconnect(error, dbapi_connection, None) or getattr(
                dbapi_connection, "closed", False
            ):  # the pool retries with a new connection and recycles the others
                raise InvalidatePoolError(f"stale connection: {exc}") from exc
            raise


def _sqlite_engine(url: URL, *, read_only: bool, **common: Any) -> Engine:
    database = url.database or ""
    if not database or database == ":memory:":
        raise ValueError("SQLite needs a file path (sqlite:///data/ledgerlens.db), not :memory:")
    if read_only:
        path = Path(database).resolve()
        url = url.set(database=f"file:{path}?mode=ro", query={**url.query, "uri": "true"})
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **common)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _postgres_engine(url: URL, application_name: str, *, read_only: bool, **common: Any) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    query = dict(url.query)
    given = query.pop("options", "") or ""  # e.g. "-csearch_path=t_1a2b": kept, then UTC added
    options = " ".join(given) if isinstance(given, tuple) else str(given)
    options = f"{options} -c timezone=UTC".strip()
    if read_only:
        options += " -c default_transaction_read_only=on"
    url = url.set(query=query)
    return create_engine(
        url,
        connect_args={"application_name": application_name, "options": options},
        **common,
    )
