"""Tables of the ingest runtime in the read-model database (beside the events by default)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from domain.eventstore.engine import WRITE
from domain.eventstore.schema import Json, Position, UtcTimestamp

metadata = MetaData()

checkpoints = Table(
    "ingest_checkpoints",
    metadata,
    Column("group_name", String(100), nullable=False),
    Column("segment", Integer, nullable=False),
    Column("tx_id", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcTimestamp, nullable=False),
    PrimaryKeyConstraint("group_name", "segment", name="ingest_checkpoints_pkey"),
)

generations = Table(
    "ingest_generations",
    metadata,
    Column("group_name", String(100), primary_key=True),
    Column("active", Integer, nullable=False),
)

status = Table(
    "ingest_status",
    metadata,
    Column("group_name", String(100), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("critical", Integer, nullable=False),
    Column("error_policy", String(20), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("tx_id", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("events_total", BigInteger, nullable=False),
    Column("events_per_s", Float, nullable=False),
    Column("skipped", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("last_error_at", UtcTimestamp),
    Column("replay", Json),  # {"generation", "position", "head_position", "started_at"} or null
    Column("backfills", Json),  # [{"part", "position", "live_position"}]: parts catching up
    Column("pid", Integer, nullable=False),
    Column("heartbeat_at", UtcTimestamp, nullable=False),
)

dead_letters = Table(
    "ingest_dead_letters",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("group_name", String(100), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("tx_id", BigInteger, nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("state", String(20), nullable=False),  # parked | skipped | discarded | retried
    Column("reason", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("traceback", Text, nullable=False),
    Column("event", Json, nullable=False),
    Column("parked_at", UtcTimestamp, nullable=False),
    Column("resolved_at", UtcTimestamp),
    Index("ingest_dead_letters_stream", "group_name", "state", "stream_id"),
    sqlite_autoincrement=True,
)

requests = Table(
    "ingest_requests",
    metadata,
    Column("group_name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),  # replay
    Column("requested_at", UtcTimestamp, nullable=False),
    PrimaryKeyConstraint("group_name", "kind", name="ingest_requests_pkey"),
)

READ_MODEL_LOCK = 731_000_002


def create_read_model(engine: Engine, *extra: MetaData) -> None:
    """Create the runtime's tables and every projection's tables, once, even when racing."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})  # SQLite: BEGIN IMMEDIATE waits for writers
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({READ_MODEL_LOCK})")
            for tables in (metadata, *extra):
                tables.create_all(connection, checkfirst=True)
