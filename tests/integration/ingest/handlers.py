"""Test projections, loaded by dotted path from a group's ``handler`` setting.

``RecordingProjection`` writes one row per event it applies, so a test can see exactly which
events a group applied, how often and in which order. It refuses a batch that holds a "bad"
event (a payload marked ``poison``, or one picked at random, reproducibly, by ``seed``) AFTER
writing the rows before it: the runtime's savepoint must undo them. Creating the file named by
``fixed_flag`` "ships the fix": from then on nothing is refused (works across processes).
``delay_s`` makes every batch take that long, so a group is seen busy.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    delete,
)

from domain.eventstore import RecordedEvent
from domain.eventstore.schema import Position
from ingest.projection import Projection

HANDLER = "tests.integration.ingest.handlers:RecordingProjection"

metadata = MetaData()

handled = Table(
    "rm_test_handled",
    metadata,  # no unique key on events: an event applied twice must show up as two rows
    Column("id", Position, primary_key=True, autoincrement=True),  # apply order
    Column("group_name", String(100), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
)


class HandlerRefusedError(RuntimeError):
    """The test handler's deliberate failure."""


@dataclass(frozen=True)
class Refusal:
    position: int
    batch_len: int
    at: float  # time.monotonic()


_refusals: dict[str, list[Refusal]] = {}
_lock = threading.Lock()


def refusals(group: str) -> list[Refusal]:
    with _lock:
        return list(_refusals.get(group, ()))


def clear_refusals() -> None:
    with _lock:
        _refusals.clear()


def fails_at_random(position: int, fraction: float, seed: int) -> bool:
    """Whether the event at ``position`` is one of the ``fraction`` picked by ``seed``."""
    return fraction > 0 and random.Random(seed * 1_000_003 + position).random() < fraction


class RecordingProjection(Projection):
    metadata = metadata

    def __init__(
        self,
        group: str,
        fail_fraction: float = 0.0,
        seed: int = 0,
        fixed_flag: str = "",
        delay_s: float = 0.0,
    ) -> None:
        self.group = group
        self.fail_fraction = fail_fraction
        self.seed = seed
        self.fixed_flag = Path(fixed_flag) if fixed_flag else None
        self.delay_s = delay_s  # per batch: keeps a group visibly busy

    def is_bad(self, event: RecordedEvent) -> bool:
        if self.fixed_flag is not None and self.fixed_flag.exists():
            return False
        return bool(event.payload.get("poison")) or fails_at_random(
            event.position, self.fail_fraction, self.seed
        )

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        rows = []
        refused: RecordedEvent | None = None
        for event in events:
            if self.is_bad(event):
                refused = event
                break
            rows.append(
                {
                    "group_name": self.group,
                    "generation": generation,
                    "position": event.position,
                    "stream_id": event.stream_id,
                    "version": event.version,
                }
            )
        if rows:
            conn.execute(handled.insert(), rows)
        if refused is not None:
            with _lock:
                _refusals.setdefault(self.group, []).append(
                    Refusal(refused.position, len(events), time.monotonic())
                )
            raise HandlerRefusedError(
                f"refusing {refused.stream_id} v{refused.version} (position {refused.position})"
            )

    def drop_generation(self, conn: Connection, generation: int) -> None:
        conn.execute(
            delete(handled).where(
                handled.c.group_name == self.group, handled.c.generation == generation
            )
        )
