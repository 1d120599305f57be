"""The truth about every declared metric, computed straight from the ``events`` table.

Independent of the ingest's buckets and sketches: events are read with plain SQL, amounts
summed as ``Decimal``s, quantiles taken from sorted lists (0-based rank
``floor(q * (n - 1))``, the sketch's convention), distinct values counted with a set. A
window is ``[floor_minute(at) + 1 min - length, floor_minute(at) + 1 min)``; a calendar
window starts at local midnight; a cumulative level adds every delta before the window end;
a ratio is sum over sum.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from ingest.metrics.definitions import (
    AnyMetric,
    CumulativeMetric,
    DifferenceMetric,
    DurationMetric,
    EventMetric,
    RatioMetric,
)

Number = int | float | Decimal | None
ROLLING = {"1m": 60, "5m": 300, "1h": 3600, "24h": 86400}
STEPS = {"1m": 60, "5m": 300, "1h": 3600}
APPROXIMATE = ("distinct", "quantile", "duration")
BOUND = 0.02


@dataclass(frozen=True)
class Event:
    t: float  # occurred_at, epoch seconds
    event_type: str
    payload: dict[str, Any]


def load_events(engine: Engine) -> list[Event]:
    """Every event in log order (tx_id, position)."""
    query = text("SELECT event_type, occurred_at, payload FROM events ORDER BY tx_id, position")
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    found = []
    for event_type, occurred, payload in rows:
        moment = datetime.fromisoformat(occurred) if isinstance(occurred, str) else occurred
        body = json.loads(payload) if isinstance(payload, str) else payload
        found.append(Event(moment.timestamp(), str(event_type), body))
    return found


def window_bounds(spec: str, at: datetime, zone: str) -> tuple[int, int]:
    end = (math.floor(at.timestamp()) // 60 + 1) * 60
    if spec in ROLLING:
        return end - ROLLING[spec], end
    local = at.astimezone(ZoneInfo(zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if spec == "today":
        return int(midnight.timestamp()), end
    if spec == "yesterday":
        return int((midnight - timedelta(days=1)).timestamp()), int(midnight.timestamp())
    if spec == "this_week":
        return int((midnight - timedelta(days=local.weekday())).timestamp()), end
    raise ValueError(spec)


def local_midnights(first: datetime, last: datetime, zone: str) -> list[int]:
    """Local midnights from the one starting ``first``'s local day, up to ``last``."""
    tz = ZoneInfo(zone)
    day = first.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    found = []
    while day.timestamp() < last.timestamp():
        found.append(int(day.timestamp()))
        day = (day + timedelta(days=1)).replace(tzinfo=tz)
    return found


class Truth:
    def __init__(self, events: list[Event], metrics: list[AnyMetric], zone: str) -> None:
        self.events = events
        self.metrics = {m.name: m for m in metrics}
        self.zone = zone
        self.by_type: dict[str, list[Event]] = defaultdict(list)
        for event in sorted(events, key=lambda e: e.t):
            self.by_type[event.event_type].append(event)
        self.times = {k: [e.t for e in v] for k, v in self.by_type.items()}

    def between(self, event_type: str, start: float, end: float) -> list[Event]:
        times = self.times.get(event_type, [])
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        return self.by_type[event_type][lo:hi]

    # --- figures ------------------------------------------------------------------------

    def value(self, name: str, start: int, end: int, dim: str | None = None) -> Number:
        metric = self.metrics[name]
        if isinstance(metric, RatioMetric | DifferenceMetric):
            parts = (
                (metric.numerator, metric.denominator)
                if isinstance(metric, RatioMetric)
                else (metric.minuend, metric.subtrahend)
            )
            a, b = (self.value(part, start, end, dim) for part in parts)
            if isinstance(metric, DifferenceMetric):
                return Decimal(a) - Decimal(b)  # type: ignore[arg-type]
            return None if not b else float(Decimal(a) / Decimal(b))  # type: ignore[arg-type]
        if isinstance(metric, CumulativeMetric):
            return self.level(metric, end)
        if isinstance(metric, DurationMetric):
            return lower_quantile(self.durations(metric, start, end), metric.q)
        assert isinstance(metric, EventMetric)
        return self.event_figure(metric, start, end, dim)

    def matching(
        self, metric: EventMetric, start: float, end: float, dim: str | None
    ) -> Iterator[Event]:
        for event_type in metric.events:
            for event in self.between(event_type, start, end):
                payload = event.payload
                if any(not wanted(payload.get(k), v) for k, v in metric.where.items()):
                    continue
                if dim is not None and by_value(payload, metric.by) != dim:
                    continue
                yield event

    def event_figure(self, metric: EventMetric, start: int, end: int, dim: str | None) -> Number:
        chosen = list(self.matching(metric, start, end, dim))
        if metric.kind == "count":
            return len(chosen)
        if metric.kind == "distinct":
            return len({str(e.payload[metric.field]) for e in chosen})  # type: ignore[index]
        amounts = [Decimal(str(e.payload[metric.field])) for e in chosen]  # type: ignore[index]
        if metric.kind == "sum":
            return sum(amounts, Decimal(0))
        if not amounts:
            return None
        if metric.kind == "avg":
            return sum(amounts, Decimal(0)) / len(amounts)
        if metric.kind == "min":
            return min(amounts)
        if metric.kind == "max":
            return max(amounts)
        return lower_quantile([float(a) for a in amounts], metric.q or 0.5)

    def level(self, metric: CumulativeMetric, end: int) -> Decimal:
        total = Decimal(0)
        for delta in metric.deltas:
            for event in self.between(delta.event, -math.inf, end):
                if all(wanted(event.payload.get(k), v) for k, v in delta.where.items()):
                    amount = (
                        Decimal(1)
                        if delta.field is None
                        else Decimal(str(event.payload[delta.field]))
                    )
                    total += delta.sign * amount
        return total

    def durations(self, metric: DurationMetric, start: int, end: int) -> list[float]:
        began = {str(e.payload[metric.start.key]): e.t for e in self.by_type[metric.start.event]}
        return [
            max(e.t - began[str(e.payload[metric.end.key])], 0.0)
            for e in self.between(metric.end.event, start, end)
        ]

    # --- series -------------------------------------------------------------------------

    def series(
        self, name: str, first: datetime, last: datetime, step: str, by: str | None
    ) -> list[tuple[int, str | None, Number]]:
        if step == "1d":
            starts = local_midnights(first, last, self.zone)
            ends = [*starts[1:], self._next_midnight(starts[-1])]
        else:
            size = STEPS[step]
            begin = math.floor(first.timestamp()) // size * size
            starts = list(range(begin, math.floor(last.timestamp()), size))
            ends = [s + size for s in starts]
        dims: list[str | None] = [None]
        if by is not None:
            seen = self.dims_between(name, starts[0], math.floor(last.timestamp()))
            dims = sorted(seen) or [None]
        return [
            (s, d, self.value(name, s, e, d))
            for d in dims
            for s, e in zip(starts, ends, strict=True)
        ]

    def _next_midnight(self, midnight: int) -> int:
        tz = ZoneInfo(self.zone)
        day = datetime.fromtimestamp(midnight, tz) + timedelta(days=1)
        return int(day.replace(tzinfo=tz).timestamp())

    def dims_between(self, name: str, start: int, end: int) -> set[str]:
        metric = self.metrics[name]
        if isinstance(metric, RatioMetric | DifferenceMetric):
            pair = (
                (metric.numerator, metric.denominator)
                if isinstance(metric, RatioMetric)
                else (metric.minuend, metric.subtrahend)
            )
            return self.dims_between(pair[0], start, end) | self.dims_between(pair[1], start, end)
        assert isinstance(metric, EventMetric)
        return {by_value(e.payload, metric.by) for e in self.matching(metric, start, end, None)}

    def dimension_values(self, name: str) -> set[str]:
        return self.dims_between(name, 0, 2**40)

    # --- pipeline health ----------------------------------------------------------------

    def late_events(self, read_types: set[str]) -> int:
        """Events read by a metric whose minute is older than the newest minute before them
        in log order."""
        newest, late = 0, 0
        for event in self.events:
            if event.event_type not in read_types:
                continue
            minute = math.floor(event.t) // 60 * 60
            if minute < newest:
                late += 1
            newest = max(newest, minute)
        return late


def wanted(value: object, condition: object) -> bool:
    options = condition if isinstance(condition, list) else [condition]
    return any(value == o or (value is not None and str(value) == str(o)) for o in options)


def by_value(payload: dict[str, Any], by: str | None) -> str:
    value = payload.get(by) if by else None
    return "(none)" if value is None else str(value)


def lower_quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return sorted(values)[math.floor(q * (len(values) - 1))]


def agrees(kind: str, got: Number, want: Number) -> bool:
    """Exact for additive and derived kinds (money stays Decimal); within 2% for sketches."""
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, Decimal) and not isinstance(got, Decimal):
        return False
    if kind not in APPROXIMATE:
        return got == want
    if want == 0:
        return got == 0
    return abs(float(got) - float(want)) <= BOUND * abs(float(want))
