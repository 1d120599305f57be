"""Checkpoints keyed by (group, segment), advanced only from the value the writer read.

The conditional update makes exactly-once hold even if two processes ran one group: the
second one's transaction finds the checkpoint moved and rolls back.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from domain.clock import utc_now
from domain.eventstore import START, Checkpoint
from domain.eventstore.engine import dialect_insert
from ingest.readmodel import checkpoints, generations


class CheckpointConflictError(RuntimeError):
    """Another writer moved this group's checkpoint: this batch was rolled back."""


def load_checkpoint(conn: Connection, group: str, segment: int = 0) -> Checkpoint:
    row = conn.execute(
        select(checkpoints.c.tx_id, checkpoints.c.position).where(
            checkpoints.c.group_name == group, checkpoints.c.segment == segment
        )
    ).first()
    return START if row is None else Checkpoint(int(row[0]), int(row[1]))


def ensure_checkpoint(conn: Connection, group: str, segment: int = 0) -> Checkpoint:
    conn.execute(
        dialect_insert(conn)(checkpoints)
        .values(group_name=group, segment=segment, tx_id=0, position=0, updated_at=utc_now())
        .on_conflict_do_nothing(index_elements=["group_name", "segment"])
    )
    return load_checkpoint(conn, group, segment)


def advance_checkpoint(
    conn: Connection, group: str, segment: int, old: Checkpoint, new: Checkpoint
) -> None:
    result = conn.execute(
        update(checkpoints)
        .where(
            checkpoints.c.group_name == group,
            checkpoints.c.segment == segment,
            checkpoints.c.tx_id == old.tx_id,
            checkpoints.c.position == old.position,
        )
        .values(tx_id=new.tx_id, position=new.position, updated_at=utc_now())
    )
    if result.rowcount != 1:
        raise CheckpointConflictError(
            f"group {group!r} segment {segment}: checkpoint is no longer {old}; "
            "another process is running this group"
        )


def delete_checkpoint(conn: Connection, group: str, segment: int) -> None:
    conn.execute(
        checkpoints.delete().where(
            checkpoints.c.group_name == group, checkpoints.c.segment == segment
        )
    )


def active_generation(conn: Connection, group: str) -> int:
    conn.execute(
        dialect_insert(conn)(generations)
        .values(group_name=group, active=1)
        .on_conflict_do_nothing(index_elements=["group_name"])
    )
    value = conn.execute(
        select(generations.c.active).where(generations.c.group_name == group)
    ).scalar_one()
    return int(value)


def switch_generation(conn: Connection, group: str, generation: int) -> None:
    conn.execute(
        update(generations).where(generations.c.group_name == group).values(active=generation)
    )
