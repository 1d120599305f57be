"""Each group's status row: written by the running ingest, read by `status` and the dashboard."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from domain.clock import utc_now
from domain.eventstore import START, Checkpoint
from domain.eventstore.engine import dialect_insert
from ingest.readmodel import status

STALE_AFTER = timedelta(seconds=15)


@dataclass
class GroupState:
    """What a processing group knows about itself, in memory, between status writes."""

    name: str
    critical: bool
    error_policy: str
    state: str = "starting"  # running | caught_up | replaying | retrying | error | stopped
    generation: int = 1
    checkpoint: Checkpoint = START
    events_total: int = 0
    events_per_s: float = 0.0
    skipped: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    replay: dict[str, Any] | None = None
    backfills: list[dict[str, Any]] = field(default_factory=list)


def write_status(engine: Engine, group: GroupState) -> None:
    row = {
        "group_name": group.name,
        "state": group.state,
        "critical": int(group.critical),
        "error_policy": group.error_policy,
        "generation": group.generation,
        "tx_id": group.checkpoint.tx_id,
        "position": group.checkpoint.position,
        "events_total": group.events_total,
        "events_per_s": round(group.events_per_s, 1),
        "skipped": group.skipped,
        "last_error": group.last_error,
        "last_error_at": group.last_error_at,
        "replay": group.replay,
        "backfills": group.backfills,
        "pid": os.getpid(),
        "heartbeat_at": utc_now(),
    }
    with engine.begin() as conn:
        insert = dialect_insert(conn)
        statement = insert(status).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=["group_name"],
            set_={key: statement.excluded[key] for key in row if key != "group_name"},
        )
        conn.execute(statement)


def read_status_rows(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(status).order_by(status.c.group_name))
    return [dict(row._mapping) for row in rows]


def is_alive(row: dict[str, Any], now: datetime | None = None) -> bool:
    """A process runs the group: it did not stop cleanly and its heartbeat is recent."""
    heartbeat = row.get("heartbeat_at")
    if heartbeat is None or row.get("state") == "stopped":
        return False
    return (now or utc_now()) - heartbeat < STALE_AFTER
