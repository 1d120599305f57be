"""Alert tables in the read-model database: states, history, outbox, silences, config status.

States and "what receivers were told" live here, so a restarted ingest carries on where the
last one stopped and never re-sends a notification already accepted by a sink.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from domain.eventstore.schema import Json, Position, UtcTimestamp

metadata = MetaData()

states = Table(
    "alert_states",
    metadata,
    Column("rule", String(100), primary_key=True),
    Column("identity", Text, nullable=False),  # metric|dim|window|op|compare it was built on
    Column("labels", Json, nullable=False),
    Column("state", String(20), nullable=False),
    Column("since", UtcTimestamp),
    Column("pending_since", UtcTimestamp),
    Column("active_since", UtcTimestamp),
    Column("fired_at", UtcTimestamp),
    Column("last_breach_at", UtcTimestamp),
    Column("evaluated_at", UtcTimestamp),
    Column("value", Float),
    Column("threshold", Float),  # the threshold, or the low end of an `outside` band
    Column("threshold_hi", Float),  # the high end of an `outside` band
    Column("summary", Text, nullable=False),
    Column("stale", Integer, nullable=False),
    Column("detail", Text, nullable=False),
    Column("notified", String(20), nullable=False),
    Column("silenced", Integer, nullable=False),
)

history = Table(
    "alert_history",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("rule", String(100), nullable=False),
    Column("labels", Json, nullable=False),
    Column("from_state", String(20), nullable=False),
    Column("to_state", String(20), nullable=False),
    Column("value", Float),
    Column("threshold", Float),  # the threshold, or the low end of an `outside` band
    Column("threshold_hi", Float),  # the high end of an `outside` band
    Column("at", UtcTimestamp, nullable=False),  # the evaluation time (event time when stale)
    Column("recorded_at", UtcTimestamp, nullable=False),
    Column("stale", Integer, nullable=False),
    Column("detail", Text, nullable=False),
    Index("alert_history_rule", "rule", "id"),
    sqlite_autoincrement=True,
)

outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("group_key", Text, nullable=False),
    Column("status", String(20), nullable=False),  # firing | resolved
    Column("payload", Json, nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    sqlite_autoincrement=True,
)

deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("outbox_id", BigInteger, nullable=False),
    Column("sink", String(100), nullable=False),
    Column("state", String(20), nullable=False),  # pending | sent | failed | dropped
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcTimestamp, nullable=False),
    Column("sent_at", UtcTimestamp),
    Column("last_error", Text),
    PrimaryKeyConstraint("outbox_id", "sink", name="alert_deliveries_pkey"),
    Index("alert_deliveries_due", "sink", "state", "outbox_id"),
)

groups = Table(
    "alert_groups",
    metadata,
    Column("group_key", String(500), primary_key=True),
    Column("last_sent_at", UtcTimestamp, nullable=False),
)

silences = Table(
    "alert_silences",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("rule", String(100), nullable=False),
    Column("matchers", Json, nullable=False),  # {"label": "value"}: all must match
    Column("reason", Text, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("starts_at", UtcTimestamp, nullable=False),
    Column("ends_at", UtcTimestamp, nullable=False),
    Column("expired_at", UtcTimestamp),
    sqlite_autoincrement=True,
)

config_status = Table(
    "ingest_config_status",
    metadata,
    Column("name", String(50), primary_key=True),  # "config"
    Column("path", Text, nullable=False),
    Column("applied_at", UtcTimestamp),
    Column("applied_digest", String(64)),
    Column("refused_at", UtcTimestamp),
    Column("refused_message", Text),
    Column("refused_digest", String(64)),
)
