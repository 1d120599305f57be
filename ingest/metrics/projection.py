"""The `kpis` group's projection: every declared metric, bucketed, exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from domain.events import EVENT_TYPES
from domain.eventstore import RecordedEvent
from ingest.metrics import storage
from ingest.metrics.aggregation import (
    Accumulator,
    AnyMetric,
    accumulate,
    close_span,
    compile_metrics,
)
from ingest.metrics.timegrid import MINUTE
from ingest.projection import Projection


class MetricsProjection(Projection):
    metadata = storage.metadata

    def __init__(self, metrics: Sequence[AnyMetric], zone: str, *, strict: bool = False) -> None:
        self.metrics = list(metrics)
        self.zone = zone
        self.strict = strict  # dead_letter groups park an event whose field a metric lacks
        self.table = compile_metrics(self.metrics, strict=strict)

    @classmethod
    def from_settings(cls, settings: Any, group: Any) -> MetricsProjection:
        return cls(
            settings.metrics, settings.business_timezone, strict=group.error_policy == "dead_letter"
        )

    def handle_batch(
        self, events: Sequence[RecordedEvent], conn: Connection, generation: int
    ) -> None:
        counters = storage.read_counters(conn, generation)
        acc = Accumulator(self.zone, watermark=counters.get("watermark", 0))
        before = acc.watermark
        accumulate(events, self.table, acc)
        unknown = sum(1 for e in events if e.event_type not in EVENT_TYPES)
        self._close_stored_spans(conn, generation, acc)
        acc.roll_up()
        self._write(conn, generation, acc)
        added: dict[str, int] = dict(acc.problems)
        if acc.late_events:
            added["late_events"] = acc.late_events
        if unknown:
            added["unknown_event_types"] = unknown
        maxima = {"watermark": acc.watermark} if acc.watermark > before else {}
        storage.add_counters(conn, generation, added, maxima)

    def _close_stored_spans(self, conn: Connection, generation: int, acc: Accumulator) -> None:
        if acc.ends:
            stored = storage.take_spans(conn, generation, {(m, k) for m, k, _, _ in acc.ends})
            for metric, key, moment, _ in acc.ends:
                began = stored.pop((metric, key), None)
                if began is None:
                    acc.problems[f"unmatched_end:{metric}"] += 1
                else:
                    close_span(acc, metric, moment - began, int(moment) // MINUTE * MINUTE)
        storage.open_spans(conn, generation, acc.started)

    def _write(self, conn: Connection, generation: int, acc: Accumulator) -> None:
        sketch_keys = [key for key, cell in acc.cells.items() if cell[4] is not None]
        stored = storage.stored_sketches(conn, generation, sketch_keys) if sketch_keys else {}
        rows: list[dict[str, Any]] = []
        for key, (n, total, vmin, vmax, sketch) in acc.cells.items():
            blob = None
            if sketch is not None:
                if key in stored:
                    sketch.merge(type(sketch).from_bytes(stored[key]))
                blob = sketch.to_bytes()
            metric, resolution, start, dim = key
            rows.append({"metric": metric, "resolution": resolution, "bucket_start": start,
                         "dim": dim, "n": n, "total": total, "vmin": vmin, "vmax": vmax,
                         "sketch": blob})  # fmt: skip
        storage.upsert_buckets(conn, generation, rows)

    def drop_generation(self, conn: Connection, generation: int) -> None:
        storage.drop_generation(conn, generation)
