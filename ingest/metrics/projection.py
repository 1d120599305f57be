"""The `kpis` group's projection: every declared metric, bucketed, exactly once."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection

from domain.events import EVENT_TYPES
from domain.eventstore import RecordedEvent
from ingest.metrics import storage
from ingest.metrics.aggregation import (
    END,
    Accumulator,
    AnyMetric,
    accumulate,
    close_span,
    compile_metrics,
)
from ingest.metrics.definitions import parts
from ingest.metrics.timegrid import MINUTE
from ingest.projection import Projection

log = logging.getLogger(__name__)


def stores_figures(metric: AnyMetric) -> bool:
    """Ratios and differences are computed from other metrics at query time."""
    return parts(metric) is None


def fingerprint(metric: AnyMetric) -> str:
    """What decides a metric's figures (not its label): a change means a new backfill."""
    decisive = metric.model_dump(mode="json", exclude={"label", "unit", "description"})
    return hashlib.sha256(orjson.dumps(decisive, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


class MetricsProjection(Projection):
    """Every declared metric that is live. A metric added later (or changed) is backfilled
    from the start of history by its own catch-up reader (``part``) and joins when it has
    caught up with the group (``part_live``); until then it is neither computed here nor
    half-counted."""

    metadata = storage.metadata

    def __init__(
        self,
        metrics: Sequence[AnyMetric],
        zone: str,
        *,
        strict: bool = False,
        live: set[str] | None = None,
        stream_counters: bool = True,
    ) -> None:
        self.metrics = [m for m in metrics if stores_figures(m)]
        self.zone = zone
        self.strict = strict  # dead_letter groups park an event whose field a metric lacks
        self.stream_counters = stream_counters  # watermark, late and unknown events
        self.live = {m.name for m in self.metrics} if live is None else set(live)
        self._compile()

    @classmethod
    def from_settings(cls, settings: Any, group: Any) -> MetricsProjection:
        return cls(
            settings.metrics, settings.business_timezone, strict=group.error_policy == "dead_letter"
        )

    def _compile(self) -> None:
        live = [m for m in self.metrics if m.name in self.live]
        self.table = compile_metrics(live, strict=self.strict)

    # --- configuration changes ------------------------------------------------------------

    def reconfigure(self, settings: Any, group: Any) -> None:
        self.metrics = [m for m in settings.metrics if stores_figures(m)]
        self.zone = settings.business_timezone
        self.strict = group.error_policy == "dead_letter"

    def prepare(self, conn: Connection, generation: int, *, fresh: bool) -> dict[str, str]:
        """Reconcile the stored definitions with the configured ones; return the metrics
        that need a backfill (new or changed, unless the generation starts from nothing)."""
        stored = storage.stored_definitions(conn, generation)
        moved = storage.move_rollups(conn, generation, stored)
        if moved:
            log.info("generation %d: moved %d roll-up rows to their own table", generation, moved)
        wanted = {m.name: fingerprint(m) for m in self.metrics}
        for name, (print_, _) in stored.items():
            if wanted.get(name) != print_:
                storage.drop_metric(conn, generation, name)
        stored = storage.stored_definitions(conn, generation)
        for name, print_ in wanted.items():
            if name not in stored:
                storage.define(conn, generation, name, print_, live=fresh)
        self.live = {
            name for name, (_, live) in storage.stored_definitions(conn, generation).items() if live
        }
        self._compile()
        return {name: print_ for name, print_ in wanted.items() if name not in self.live}

    def part(self, name: str) -> MetricsProjection:
        metric = next((m for m in self.metrics if m.name == name), None)
        if metric is None:
            raise KeyError(f"no metric {name!r} to backfill")
        return MetricsProjection(
            [metric], self.zone, strict=self.strict, live={name}, stream_counters=False
        )

    def part_live(self, conn: Connection, generation: int, name: str) -> None:
        storage.define(conn, generation, name, fingerprint(self.part(name).metrics[0]), live=True)
        self.live.add(name)
        self._compile()

    def handle_batch(
        self,
        events: Sequence[RecordedEvent],
        conn: Connection,
        generation: int,
        *,
        minutes: Sequence[int] | None = None,
    ) -> None:
        """``minutes``: each event's ``occurred_minute()``, when the caller has them."""
        counters = storage.read_counters(conn, generation) if self.stream_counters else {}
        acc = Accumulator(self.zone, watermark=counters.get("watermark", 0))
        before = acc.watermark
        accumulate(events, self.table, acc, minutes)
        unknown = sum(1 for e in events if e.event_type not in EVENT_TYPES)
        self._close_stored_spans(conn, generation, acc)
        acc.roll_up()
        self._write(conn, generation, acc)
        added: dict[str, int] = dict(acc.problems)
        maxima: dict[str, int] = {}
        if self.stream_counters:
            if acc.late_events:
                added["late_events"] = acc.late_events
            if unknown:
                added["unknown_event_types"] = unknown
            if acc.watermark > before:
                maxima["watermark"] = acc.watermark
            if events:  # one timestamp a batch; alerts tell history being written from now
                maxima["recorded"] = int(events[-1].recorded_at.timestamp())
        storage.add_counters(conn, generation, added, maxima)

    def _close_stored_spans(self, conn: Connection, generation: int, acc: Accumulator) -> None:
        if acc.ends:
            stored = storage.take_spans(conn, generation, {(m, k) for m, k, _, _ in acc.ends})
            for metric, key, moment, how in acc.ends:
                began = stored.pop((metric, key), None)
                if began is None:
                    acc.problems[f"unmatched_end:{metric}"] += 1
                elif how == END:
                    close_span(acc, metric, moment - began, int(moment) // MINUTE * MINUTE)
        storage.open_spans(conn, generation, acc.started)

    def _write(self, conn: Connection, generation: int, acc: Accumulator) -> None:
        # Only a bucket starting at or before the metric's latest stored minute bucket can be
        # stored already (hours and days are written with a minute inside them), so only
        # those sketches are merged with the stored ones: appending in order, a few open
        # hours and days per batch, not every minute of it.
        sketched = {k[0] for k, cell in acc.cells.items() if cell[4] is not None}
        latest = storage.latest_minutes(conn, generation, sketched) if sketched else {}
        sketch_keys = [
            k for k, cell in acc.cells.items()
            if cell[4] is not None and k[0] in latest and k[2] <= latest[k[0]]
        ]  # fmt: skip
        stored = storage.stored_sketches(conn, generation, sketch_keys) if sketch_keys else {}
        minutes: list[storage.StoredBucket] = []
        coarser: list[storage.StoredBucket] = []
        for key, (n, total, vmin, vmax, sketch) in acc.cells.items():
            blob = None
            if sketch is not None:
                if key in stored:
                    sketch.merge(type(sketch).from_bytes(stored[key]))
                blob = sketch.to_bytes()
            (minutes if key[1] == MINUTE else coarser).append(
                (generation, *key, n, total, vmin, vmax, blob)
            )
        storage.upsert_stored_buckets(conn, minutes, coarser)

    def drop_generation(self, conn: Connection, generation: int) -> None:
        storage.drop_generation(conn, generation)
