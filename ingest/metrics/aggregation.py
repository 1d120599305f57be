"""Compiling metric declarations into per-event-type updaters, and accumulating a batch.

A cell is ``[n, total, vmin, vmax, sketch]`` for one (metric, resolution, bucket, dim).
Additive kinds are accumulated per minute and rolled up to hours and business days after
the batch (few cells); sketch kinds update all three resolutions per event (merging
sketches costs more than adding a value three times).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.eventstore import RecordedEvent
from ingest.metrics.definitions import AnyMetric, CumulativeMetric, DurationMetric, EventMetric
from ingest.metrics.sketches import DistinctSketch, QuantileSketch
from ingest.metrics.timegrid import DAY, HOUR, MINUTE, business_day_start
from ingest.metrics.values import (
    POWERS,
    FieldProblem,
    compile_where,
    dimension,
    read_field,
    scaled_field,
)

Cell = list[Any]
CellKey = tuple[str, int, int, str]  # metric, resolution, bucket_start, dim
DURATION_SCALE = 3  # duration totals are kept in milliseconds


@dataclass
class Accumulator:
    zone: str
    cells: dict[CellKey, Cell] = field(default_factory=dict)
    started: dict[tuple[str, str], float] = field(default_factory=dict)
    ends: list[tuple[str, str, float, str]] = field(default_factory=list)
    problems: Counter[str] = field(default_factory=Counter)
    late_events: int = 0
    watermark: int = 0

    def cell(self, metric: str, resolution: int, start: int, dim: str) -> Cell:
        key = (metric, resolution, start, dim)
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = [0, 0, None, None, None]
        return found

    def sketch_cells(self, metric: str, minute: int, dim: str) -> list[Cell]:
        hour = minute - minute % HOUR
        day = business_day_start(hour, self.zone)
        return [self.cell(metric, MINUTE, minute, dim), self.cell(metric, HOUR, hour, dim),
                self.cell(metric, DAY, day, dim)]  # fmt: skip

    def roll_up(self) -> None:
        """Add every additive minute cell into its hour and business-day cells: minutes into
        hours first, then those hours into days (a batch's hours are few, its minutes many)."""
        cells, zone = self.cells, self.zone
        hours: dict[CellKey, Cell] = {}
        for key, cell in cells.items():
            if key[1] != MINUTE or cell[4] is not None:
                continue
            metric, _, start, dim = key
            hour_key = (metric, HOUR, start - start % HOUR, dim)
            target = hours.get(hour_key)
            if target is None:
                hours[hour_key] = cell[:4]
            else:
                _add(target, cell)
        day_of: dict[int, int] = {}
        for (metric, _, hour, dim), cell in hours.items():
            day = day_of.get(hour)
            if day is None:
                day = day_of[hour] = business_day_start(hour, zone)
            for key in ((metric, HOUR, hour, dim), (metric, DAY, day, dim)):
                target = cells.get(key)
                if target is None:
                    cells[key] = [*cell, None]
                else:
                    _add(target, cell)


def _add(target: Cell, cell: Cell) -> None:
    """Add an additive cell (n, total and, for sums, extremes) into another."""
    target[0] += cell[0]
    target[1] += cell[1]
    vmin = cell[2]
    if vmin is not None:  # sums keep extremes; counts and levels do not
        if target[2] is None or vmin < target[2]:
            target[2] = vmin
        vmax = cell[3]
        if target[3] is None or vmax > target[3]:
            target[3] = vmax


Updater = Callable[[Mapping[str, Any], int, float, Accumulator], None]


@dataclass(frozen=True, slots=True)
class TypePlan:
    """What one event type feeds: (metric name, updater) pairs in declaration order, and
    whether any of them needs the exact moment (durations), not just the minute."""

    updaters: tuple[tuple[str, Updater], ...]
    timed: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """Compiled metrics: event type -> its ``TypePlan``. ``strict``: a field problem raises
    (dead_letter groups park the event) instead of being counted."""

    types: Mapping[str, TypePlan]
    strict: bool


def _event_updater(metric: EventMetric) -> Updater:
    name, kind, fld, by, scale = metric.name, metric.kind, metric.field, metric.by, metric.scale
    assert kind == "count" or fld is not None  # guaranteed by the definition's validator

    def count(p: Mapping[str, Any], minute: int, _t: float, acc: Accumulator) -> None:
        key = (name, MINUTE, minute, "" if by is None else dimension(p, by))
        cell = acc.cells.get(key)
        if cell is None:
            acc.cells[key] = [1, 0, None, None, None]
        else:
            cell[0] += 1

    def summed(p: Mapping[str, Any], minute: int, _t: float, acc: Accumulator) -> None:
        value = scaled_field(p, fld, scale)  # type: ignore[arg-type]
        key = (name, MINUTE, minute, "" if by is None else dimension(p, by))
        cell = acc.cells.get(key)
        if cell is None:
            acc.cells[key] = [1, value, value, value, None]
            return
        cell[0] += 1
        cell[1] += value
        if value < cell[2]:
            cell[2] = value
        if value > cell[3]:
            cell[3] = value

    def distinct(p: Mapping[str, Any], minute: int, _t: float, acc: Accumulator) -> None:
        value = str(read_field(p, fld))  # type: ignore[arg-type]
        for cell in acc.sketch_cells(name, minute, dimension(p, by)):
            cell[0] += 1
            if cell[4] is None:
                cell[4] = DistinctSketch()
            cell[4].add(value)

    def quantile(p: Mapping[str, Any], minute: int, _t: float, acc: Accumulator) -> None:
        value = scaled_field(p, fld, scale)  # type: ignore[arg-type]
        for cell in acc.sketch_cells(name, minute, dimension(p, by)):
            add_to_quantile_cell(cell, value, value / POWERS[scale])

    if kind == "count":
        return count
    if kind == "distinct":
        return distinct
    if kind == "quantile":
        return quantile
    return summed


def add_to_quantile_cell(cell: Cell, scaled: int, value: float) -> None:
    cell[0] += 1
    cell[1] += scaled
    cell[2] = scaled if cell[2] is None else min(cell[2], scaled)
    cell[3] = scaled if cell[3] is None else max(cell[3], scaled)
    if cell[4] is None:
        cell[4] = QuantileSketch()
    cell[4].add(value)


def _span_start(metric: DurationMetric) -> Updater:
    name, key = metric.name, metric.start.key

    def start(p: Mapping[str, Any], _m: int, moment: float, acc: Accumulator) -> None:
        acc.started[(name, str(read_field(p, key)))] = moment

    return start


END, CANCEL = "end", "cancel"


def _span_end(metric: DurationMetric, key: str, how: str) -> Updater:
    name = metric.name

    def end(p: Mapping[str, Any], minute: int, moment: float, acc: Accumulator) -> None:
        span = (name, str(read_field(p, key)))
        began = acc.started.pop(span, None)
        if began is None:
            acc.ends.append((name, span[1], moment, how))  # resolved from stored spans later
        elif how == END:
            close_span(acc, name, moment - began, minute)

    return end


def close_span(acc: Accumulator, name: str, seconds: float, minute: int) -> None:
    seconds = max(seconds, 0.0)
    for cell in acc.sketch_cells(name, minute, ""):
        add_to_quantile_cell(cell, round(seconds * POWERS[DURATION_SCALE]), seconds)


def _delta(metric: CumulativeMetric, index: int) -> Updater:
    name, scale = metric.name, metric.scale
    delta = metric.deltas[index]
    sign, fld, where = delta.sign, delta.field, compile_where(delta.where)
    unit = POWERS[scale]

    def apply(p: Mapping[str, Any], minute: int, _t: float, acc: Accumulator) -> None:
        if where is not None and not where(p):
            return
        value = sign * (unit if fld is None else scaled_field(p, fld, scale))
        key = (name, MINUTE, minute, "")
        cell = acc.cells.get(key)
        if cell is None:
            acc.cells[key] = [1, value, None, None, None]
        else:
            cell[0] += 1
            cell[1] += value

    return apply


def _filtered(where: Callable[[Mapping[str, Any]], bool] | None, update: Updater) -> Updater:
    if where is None:
        return update

    def filtered(p: Mapping[str, Any], minute: int, moment: float, acc: Accumulator) -> None:
        if where(p):
            update(p, minute, moment, acc)

    return filtered


def compile_metrics(metrics: Sequence[AnyMetric], *, strict: bool) -> Plan:
    """Every event type a metric reads -> the updaters to run on each event of that type,
    in declaration order."""
    table: dict[str, list[tuple[str, Updater]]] = defaultdict(list)
    timed: set[str] = set()
    for metric in metrics:
        name = metric.name
        if isinstance(metric, EventMetric):
            update = _filtered(compile_where(metric.where), _event_updater(metric))
            for event_type in metric.events:
                table[event_type].append((name, update))
        elif isinstance(metric, DurationMetric):
            table[metric.start.event].append((name, _span_start(metric)))
            table[metric.end.event].append((name, _span_end(metric, metric.end.key, END)))
            for cancel in metric.cancel:
                table[cancel.event].append((name, _span_end(metric, cancel.key, CANCEL)))
            timed.update([metric.start.event, metric.end.event, *(c.event for c in metric.cancel)])
        elif isinstance(metric, CumulativeMetric):
            for index, delta in enumerate(metric.deltas):
                table[delta.event].append((name, _delta(metric, index)))
    types = {t: TypePlan(tuple(updaters), t in timed) for t, updaters in table.items()}
    return Plan(types, strict)


def accumulate(
    events: Sequence[RecordedEvent],
    plan: Plan,
    acc: Accumulator,
    minutes: Sequence[int] | None = None,
) -> int:
    """Run every event through its updaters; return how many events no metric reads.
    ``minutes``: each event's ``occurred_minute()``, when the caller has them already.

    The hot loop of a replay: per event one plan lookup, its minute (``occurred_minute``:
    no datetime parse for rows read as text) and its updaters; a field problem is counted
    per metric and field (or raised, ``strict``), and the metric's other events go on."""
    unread = late = 0
    watermark = acc.watermark
    types, strict, problems = plan.types, plan.strict, acc.problems
    if minutes is None:
        minutes = [e.occurred_minute() if e.event_type in types else 0 for e in events]
    for event, minute in zip(events, minutes, strict=True):
        entry = types.get(event.event_type)
        if entry is None:
            unread += 1
            continue
        if minute < watermark:
            late += 1
        elif minute > watermark:
            watermark = minute
        moment = event.occurred_at.timestamp() if entry.timed else 0.0
        payload = event.payload
        for name, update in entry.updaters:
            try:
                update(payload, minute, moment, acc)
            except FieldProblem as problem:
                if strict:
                    raise
                problems[f"{problem.kind}:{name}:{problem.field}"] += 1
    acc.watermark = watermark
    acc.late_events += late
    return unread
