"""Built-in projection: events per type per minute of business time (the `kpis` group's
first read model; the declarative metrics build on the same runtime)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, String, Table, delete

from domain.eventstore import RecordedEvent
from ingest.projection import Projection

metadata = MetaData()

event_counts = Table(
    "rm_event_counts",
    metadata,
    Column("generation", Integer, primary_key=True),
    Column("event_type", String(100), primary_key=True),
    Column("minute", BigInteger, primary_key=True),  # epoch minute (UTC) of occurred_at
    Column("events", BigInteger, nullable=False),
)


_MERGE = (
    "ON CONFLICT (generation, event_type, minute) DO UPDATE SET events = c.events + excluded.events"
)
_UPSERT_POSTGRES = (
    "INSERT INTO rm_event_counts AS c (generation, event_type, minute, events) "
    "SELECT %s, * FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) " + _MERGE
)
_UPSERT_SQLITE = (
    "INSERT INTO rm_event_counts AS c (generation, event_type, minute, events) "
    "VALUES (?, ?, ?, ?) " + _MERGE
)


class EventCounts(Projection):
    metadata = metadata

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        counts = Counter((e.event_type, int(e.occurred_at.timestamp()) // 60) for e in events)
        if not counts:
            return
        # straight through the driver: SQLAlchemy's per-row parameters cost more than the rows
        if conn.dialect.name == "postgresql":
            types, minutes = zip(*counts, strict=True)
            conn.exec_driver_sql(
                _UPSERT_POSTGRES, (generation, list(types), list(minutes), list(counts.values()))
            )
        else:
            conn.exec_driver_sql(
                _UPSERT_SQLITE, [(generation, t, m, n) for (t, m), n in counts.items()]
            )

    def drop_generation(self, conn: Connection, generation: int) -> None:
        conn.execute(delete(event_counts).where(event_counts.c.generation == generation))
