"""Built-in projection: events per type per minute of business time (the `kpis` group's
first read model; the declarative metrics build on the same runtime)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, String, Table, delete

from domain.eventstore import RecordedEvent
from domain.eventstore.engine import dialect_insert
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


class EventCounts(Projection):
    metadata = metadata

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        counts = Counter((e.event_type, int(e.occurred_at.timestamp()) // 60) for e in events)
        if not counts:
            return
        insert = dialect_insert(conn)
        statement = insert(event_counts)
        statement = statement.on_conflict_do_update(
            index_elements=["generation", "event_type", "minute"],
            set_={"events": event_counts.c.events + statement.excluded.events},
        )
        conn.execute(
            statement,
            [
                {"generation": generation, "event_type": t, "minute": m, "events": n}
                for (t, m), n in counts.items()
            ],
        )

    def drop_generation(self, conn: Connection, generation: int) -> None:
        conn.execute(delete(event_counts).where(event_counts.c.generation == generation))
