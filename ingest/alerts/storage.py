"""Reading and writing alert states and their history (tables in tables.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ingest.alerts.evaluator import AlertStatus
from ingest.alerts.tables import history, states

STATUS_FIELDS = [f.name for f in fields(AlertStatus)]


@dataclass(frozen=True)
class AlertRecord:
    """An alert as stored: its status and what it was built on and shows."""

    status: AlertStatus
    identity: str  # the series its rule watched (metric|dim|window|op|compare)
    labels: dict[str, str]
    threshold: Any  # a number, or [lo, hi]
    summary: str


def load_states(conn: Connection) -> dict[str, AlertRecord]:
    found = {}
    for row in conn.execute(select(states)).mappings():
        values: dict[str, Any] = {name: row[name] for name in STATUS_FIELDS}
        values.update(stale=bool(row["stale"]), silenced=bool(row["silenced"]))
        high = row["threshold_hi"]
        threshold = row["threshold"] if high is None else [row["threshold"], high]
        found[row["rule"]] = AlertRecord(
            AlertStatus(**values), row["identity"], dict(row["labels"]), threshold, row["summary"]
        )
    return found


def save_state(conn: Connection, record: AlertRecord, *, exists: bool) -> None:
    status = record.status
    row = {name: getattr(status, name) for name in STATUS_FIELDS}
    row.update(
        stale=int(status.stale),
        silenced=int(status.silenced),
        identity=record.identity,
        labels=record.labels,
        summary=record.summary,
        **split_threshold(record.threshold),
    )
    if exists:
        conn.execute(update(states).where(states.c.rule == status.rule).values(row))
    else:
        conn.execute(insert(states).values(row))


def delete_state(conn: Connection, rule: str) -> None:
    conn.execute(delete(states).where(states.c.rule == rule))


def record_transition(
    conn: Connection, before: AlertStatus, after: AlertRecord, recorded_at: datetime
) -> None:
    status = after.status
    conn.execute(
        insert(history).values(
            rule=status.rule,
            labels=after.labels,
            from_state=before.state,
            to_state=status.state,
            value=status.value,
            **split_threshold(after.threshold),
            at=status.evaluated_at or recorded_at,
            recorded_at=recorded_at,
            stale=int(status.stale),
            detail=status.detail,
        )
    )


def split_threshold(threshold: Any) -> dict[str, float | None]:
    if isinstance(threshold, list | tuple):
        return {"threshold": threshold[0], "threshold_hi": threshold[1]}
    return {"threshold": threshold, "threshold_hi": None}


def read_history(conn: Connection, rule: str | None = None) -> list[dict[str, Any]]:
    query = select(history).order_by(history.c.id)
    if rule is not None:
        query = query.where(history.c.rule == rule)
    return [dict(row) for row in conn.execute(query).mappings()]
