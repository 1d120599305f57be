"""Built-in projection: events per type per minute of business time (the `kpis` group's
first read model; the declarative metrics build on the same runtime)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, String, Table, delete

from domain.eventstore import RecordedEvent
from ingest.bulk import upsert_rows
from ingest.projection import Projection

metadata = MetaData()

event_counts = Table(
    "rm_event_counts",
    metadata,
    Column("generation", Integer, primary_key=True),
    Column("event_type", String(100), primary_key=True),
    Column("minute", BigInteger, primary_key=True),  # epoch minute (UTC) of occurred_at
    Column("events", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)


class EventCounts(Projection):
    metadata = metadata

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        counts = Counter((e.event_type, e.occurred_minute() // 60) for e in events)
        if not counts:
            return
        upsert_rows(
            conn,
            event_counts.name,
            ("generation", "event_type", "minute", "events"),
            [(generation, t, m, n) for (t, m), n in counts.items()],
            key=("generation", "event_type", "minute"),
            merge="events = t.events + excluded.events",
        )

    def drop_generation(self, conn: Connection, generation: int) -> None:
        conn.execute(delete(event_counts).where(event_counts.c.generation == generation))
