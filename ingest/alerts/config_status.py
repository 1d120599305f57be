"""The running ingest's configuration: when it was last applied, and the last refused
change with the loader's message. Shown by `python -m ingest status` and the dashboard."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from domain.eventstore.engine import WRITE
from ingest.alerts.tables import config_status

ROW = "config"


def record_applied(engine: Engine, path: Path, digest: str, at: datetime) -> None:
    _write(engine, path, applied_at=at, applied_digest=digest)


def record_refused(engine: Engine, path: Path, digest: str, message: str, at: datetime) -> None:
    _write(engine, path, refused_at=at, refused_message=message, refused_digest=digest)


def _write(engine: Engine, path: Path, **values: Any) -> None:
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            found = conn.execute(
                select(config_status.c.name).where(config_status.c.name == ROW)
            ).first()
            if found is None:
                conn.execute(insert(config_status).values(name=ROW, path=str(path), **values))
            else:
                conn.execute(
                    update(config_status)
                    .where(config_status.c.name == ROW)
                    .values(path=str(path), **values)
                )


def read_config_status(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(select(config_status).where(config_status.c.name == ROW)).mappings()
    found = row.first()
    return None if found is None else dict(found)


def format_config_status(status: dict[str, Any] | None) -> str:
    if status is None:
        return "config: no running ingest has recorded its configuration yet"
    applied = status["applied_at"].isoformat() if status["applied_at"] else "never"
    lines = [f"config: {status['path']}", f"  last applied at {applied}"]
    refused_at = status["refused_at"]
    if refused_at is not None:
        current = status["applied_at"] is None or refused_at > status["applied_at"]
        note = " (the last good config keeps running)" if current else " (since fixed)"
        lines.append(f"  last refused at {refused_at.isoformat()}{note}:")
        lines += [f"    {line}" for line in str(status["refused_message"]).splitlines()]
    return "\n".join(lines)
