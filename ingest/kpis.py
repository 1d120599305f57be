"""The built-in `kpis` group: per-type event counts (pipeline health) and every declared
metric, written in one transaction with the group's checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, MetaData

from domain.eventstore import RecordedEvent
from ingest.event_counts import EventCounts
from ingest.event_counts import metadata as counts_metadata
from ingest.metrics.projection import MetricsProjection
from ingest.metrics.storage import metadata as metrics_metadata
from ingest.projection import Projection


def _combined(*parts: MetaData) -> MetaData:
    combined = MetaData()
    for part in parts:
        for table in part.tables.values():
            table.to_metadata(combined)
    return combined


class KpiProjection(Projection):
    metadata = _combined(counts_metadata, metrics_metadata)

    def __init__(self, metrics: MetricsProjection) -> None:
        self.counts = EventCounts()
        self.metrics = metrics

    @classmethod
    def from_settings(cls, settings: Any, group: Any) -> KpiProjection:
        return cls(MetricsProjection.from_settings(settings, group))

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        minutes = [e.occurred_minute() for e in events]  # once, for both parts
        self.counts.count(events, minutes, conn, generation)
        self.metrics.handle_batch(events, conn, generation, minutes=minutes)

    def drop_generation(self, conn: Connection, generation: int) -> None:
        self.counts.drop_generation(conn, generation)
        self.metrics.drop_generation(conn, generation)

    def prepare(self, conn: Connection, generation: int, *, fresh: bool) -> dict[str, str]:
        self.counts.prepare(conn, generation, fresh=fresh)
        return self.metrics.prepare(conn, generation, fresh=fresh)

    def part(self, name: str) -> Projection:
        return self.metrics.part(name)

    def part_live(self, conn: Connection, generation: int, name: str) -> None:
        self.metrics.part_live(conn, generation, name)

    def reconfigure(self, settings: Any, group: Any) -> None:
        self.metrics.reconfigure(settings, group)
