"""Backfill jobs: a part of a projection that joined late (a metric added to config.yaml)
reads the whole history with its own checkpoint until it meets its group."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from domain.eventstore import Checkpoint
from ingest.batch import BatchApplier
from ingest.readmodel import checkpoints

SEPARATOR = "#"


def backfill_key(group: str, part: str, version: str) -> str:
    """The checkpoint key: a changed definition (new version) starts again from zero."""
    return f"{group}{SEPARATOR}{part}{SEPARATOR}{version[:12]}"


@dataclass
class Backfill:
    part: str
    key: str
    checkpoint: Checkpoint
    applier: BatchApplier


def forget_other_backfills(conn: Connection, group: str, keep: set[str]) -> None:
    """Drop checkpoints of backfills no longer wanted (metric removed or redefined)."""
    prefix = f"{group}{SEPARATOR}"
    names = conn.execute(select(checkpoints.c.group_name).distinct()).scalars().all()
    stale = [name for name in names if name.startswith(prefix) and name not in keep]
    if stale:
        conn.execute(delete(checkpoints).where(checkpoints.c.group_name.in_(stale)))
