"""The Pipeline page's data: each processing group's position, lag and state, the event
rate over time (``rm_event_counts``), and the dead letters with their events."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from domain.eventstore import EventStore
from ingest.dead_letters import list_dead_letters
from ingest.event_counts import event_counts
from ingest.metrics.query import active_generation
from ingest.metrics.timegrid import MINUTE, from_epoch
from ingest.report import group_report

STATUS_COLUMNS = ["group", "state", "critical", "error_policy", "position", "head", "lag_events",
                  "lag_seconds", "events_per_s", "events_total", "dead_letters", "skipped",
                  "last_error", "last_error_at", "heartbeat_at", "replay"]  # fmt: skip
LETTER_COLUMNS = ["id", "group_name", "state", "position", "stream_id", "version", "event_type",
                  "error", "reason", "parked_at", "traceback", "event"]  # fmt: skip


def group_status(store: EventStore, engine: Engine, now: datetime | None = None) -> pd.DataFrame:
    """One row per processing group (``python -m ingest status``'s figures)."""
    report = group_report(store, engine, now)
    return pd.DataFrame(report, columns=STATUS_COLUMNS)


def event_rate(engine: Engine, group: str, start: int, end: int, step: int) -> pd.DataFrame:
    """Events per second by event type, averaged over each ``step`` seconds of business time
    in [start, end) (columns start, event_type, per_s)."""
    minute_step = max(step // MINUTE, 1)
    bucket = event_counts.c.minute - event_counts.c.minute % minute_step
    with engine.connect() as conn:
        generation = active_generation(conn, group)
        rows = conn.execute(
            select(
                bucket.label("bucket"), event_counts.c.event_type, func.sum(event_counts.c.events)
            )
            .where(
                event_counts.c.generation == generation,
                event_counts.c.minute >= start // MINUTE,
                event_counts.c.minute < -(-end // MINUTE),
            )
            .group_by(bucket, event_counts.c.event_type)
            .order_by(bucket)
        ).all()
    seconds = minute_step * MINUTE
    return pd.DataFrame(
        {
            "start": [from_epoch(int(row[0]) * MINUTE) for row in rows],
            "event_type": [str(row[1]) for row in rows],
            "per_s": [int(row[2]) / seconds for row in rows],
        },
        columns=["start", "event_type", "per_s"],
    )


def dead_letters(engine: Engine, group: str | None = None) -> pd.DataFrame:
    """Parked and skipped events, oldest first, with their error and the event itself."""
    with engine.connect() as conn:
        letters = list_dead_letters(conn, group)
    return pd.DataFrame(
        [{column: getattr(letter, column) for column in LETTER_COLUMNS} for letter in letters],
        columns=LETTER_COLUMNS,
    )
