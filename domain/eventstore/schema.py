"""Tables of the event store. ``events`` is a public contract (docs/event-store.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcTimestamp(TypeDecorator[datetime]):
    """TIMESTAMPTZ on PostgreSQL; fixed-width ISO-8601 text with +00:00 on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{value!r} is not a UTC-aware datetime")
        value = value.astimezone(UTC)
        return sqlite_timestamp(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return value.astimezone(UTC)


def sqlite_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


Json = JSON().with_variant(JSONB(), "postgresql")
Position = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("tx_id", BigInteger, nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("stream_type", String(50), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcTimestamp, nullable=False),
    Column("recorded_at", UtcTimestamp, nullable=False),
    Column("payload", Json, nullable=False),
    Column("metadata", Json, nullable=False),
    UniqueConstraint("stream_id", "version", name="events_stream_version"),
    Index("events_tx_position", "tx_id", "position"),
    Index("events_occurred_at", "occurred_at"),
    sqlite_autoincrement=True,
)

commands = Table(
    "commands",
    metadata,
    Column("command_id", String(200), nullable=False),
    Column("recorded_at", UtcTimestamp, nullable=False),
    Column("positions", Json, nullable=False),
    PrimaryKeyConstraint("command_id", name="commands_pkey"),
    # SQLite: the row lives in its primary key's b-tree (one page less to write per command;
    # stores created before keep their rowid table, which works the same).
    sqlite_with_rowid=False,
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("stream_type", String(50), nullable=False),
    Column("version", Integer, nullable=False),
    Column("state_version", Integer, nullable=False),
    Column("state", Json, nullable=False),
    Column("taken_at", UtcTimestamp, nullable=False),
)

SCHEMA_LOCK = 731_000_001  # advisory lock id: concurrent first starts create tables once


def create_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        metadata.create_all(connection, checkfirst=True)
