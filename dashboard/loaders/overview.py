"""The Overview's figures: per KPI its value over the range, the previous period's and the
same period yesterday's, and its series; all through the metrics query API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from dashboard.timerange import TimeRange
from ingest.metrics.definitions import AnyMetric, CumulativeMetric, is_level
from ingest.metrics.query import Figure, MetricsQuery, Number, Point, active_generation
from ingest.metrics.storage import rollups
from ingest.metrics.timegrid import DAY, to_epoch
from ingest.metrics.windows import parse_duration

Dimensions = dict[str, dict[str, list[str]]]  # dimension -> value -> metrics having it
Selection = tuple[tuple[str, str], ...]  # (metric, dimension value): ("deposits", "alipay")


@dataclass(frozen=True)
class Tile:
    name: str
    label: str
    unit: str
    level: bool  # a cumulative level (AUM): drawn as an area
    value: Number
    previous: Number  # the period just before, same length
    yesterday: Number  # the same period one business day earlier
    dim: str | None  # the dimension value the figures are filtered on, if any
    series: pd.DataFrame  # columns start (UTC), value (float or NaN)
    in_progress: bool = False  # the last point's bucket ends after the range: figures so far

    @property
    def spark(self) -> list[float]:
        """The series for a sparkline: complete buckets only (the one still filling would
        read as a collapse at the right edge)."""
        values = self.series["value"]
        if self.in_progress and len(values) > 1:
            values = values.iloc[:-1]
        return [0.0 if pd.isna(v) else float(v) for v in values]


def tile(query: MetricsQuery, name: str, span: TimeRange, dim: str | None = None) -> Tile:
    """``dim``: one value of the metric's dimension (``alipay``), or None for all."""
    return tiles(query, [name], span, () if dim is None else ((name, dim),))[0]


def tiles(
    query: MetricsQuery, names: Sequence[str], span: TimeRange, selection: Selection = ()
) -> list[Tile]:
    """The tiles of one refresh in two reads: every figure (the range, the period before it
    and the same time yesterday), then every series."""
    chosen = dict(selection)
    day_before = span.yesterday(query.zone)
    # a 24 h range: the same time yesterday is the previous period (one figure, not two)
    same = day_before == span.previous
    requests = []
    for name in names:
        dim = chosen.get(name)
        requests += [Figure(name, span.start, span.end, dim), Figure(name, *span.previous, dim)]
        if not same:
            requests.append(Figure(name, *day_before, dim))
    figures = iter(query.figures(requests))
    start, end = span.datetimes()
    split = {name: query.dimension_of(query.metric(name)) for name in names if name in chosen}
    series = query.series_many(names, start, end, span.step, by=split)
    step_s = parse_duration(span.step)
    found = []
    for name in names:
        metric, dim = query.metric(name), chosen.get(name)
        value, previous = next(figures), next(figures)
        points = series[name]
        level = is_level(metric)
        found.append(
            Tile(
                name=name,
                label=metric.title,
                unit=metric.unit,
                level=level,
                value=value,
                previous=previous,
                yesterday=previous if same else next(figures),
                dim=dim,
                series=frame(metric, points, dim),
                in_progress=not level and open_bucket(points, step_s, span.end),
            )
        )
    return found


def open_bucket(points: Sequence[Point], step_s: int, end: int) -> bool:
    """Whether the last point's bucket runs past ``end`` (epoch seconds): it holds only the
    part of its step up to the end of the range (the current hour, so far)."""
    return bool(points) and to_epoch(points[-1].start) + step_s > end


def frame(metric: AnyMetric, points: list[Point], dim: str | None) -> pd.DataFrame:
    """A metric's points as columns start (UTC) and value (float or NaN); one dimension
    value's when ``dim`` (the points were split by the metric's dimension)."""
    if dim is not None:  # one value's points; none at all when it has no data in the range
        values = {p.start: p.value for p in points if p.by == dim}
        points = [
            Point(start, values.get(start), dim) for start in dict.fromkeys(p.start for p in points)
        ]
    table = pd.DataFrame(
        {
            "start": [p.start for p in points],
            "value": [float("nan") if p.value is None else float(p.value) for p in points],
        }
    )
    if isinstance(metric, CumulativeMetric):
        table["value"] = table["value"].ffill()
    return table


def stored_parts(query: MetricsQuery, name: str) -> list[str]:
    """The stored metrics a derived one is computed from (itself when it is stored)."""
    return [leaf.name for leaf in query.stored_parts(query.metric(name))]


def dimension_values(query: MetricsQuery, names: Sequence[str]) -> Dimensions:
    """Per dimension (``channel``, ``product``), every value seen and the metrics of
    ``names`` that have it, from the day roll-ups (a handful of rows per metric and day).
    Two metrics may share a dimension's name but not its values (a payment channel, a
    registration channel): a filter applies only to the metrics that have its value."""
    split = {name: query.dimension_of(query.metric(name)) for name in names}
    sources = {name: stored_parts(query, name) for name, by in split.items() if by}
    if not sources:
        return {}
    with query.engine.connect() as conn:
        generation = active_generation(conn, query.group)
        rows = conn.execute(
            select(rollups.c.metric, rollups.c.dim)
            .distinct()
            .where(
                rollups.c.generation == generation,
                rollups.c.resolution == DAY,
                rollups.c.metric.in_(sorted({p for ps in sources.values() for p in ps})),
                rollups.c.dim != "",
            )
        ).all()
    seen: dict[str, set[str]] = {}
    for metric, dim in rows:
        seen.setdefault(metric, set()).add(str(dim))
    found: dict[str, dict[str, list[str]]] = {}
    for name, stored in sources.items():
        for value in set().union(*(seen.get(part, set()) for part in stored)):
            found.setdefault(str(split[name]), {}).setdefault(value, []).append(name)
    return {
        dimension: {value: values[value] for value in sorted(values)}
        for dimension, values in sorted(found.items())
    }


def selection(dimensions: Dimensions, chosen: Sequence[tuple[str, str]]) -> Selection:
    """The (metric, value) pairs that the chosen (dimension, value) filters select."""
    return tuple(
        (name, value)
        for dimension, value in chosen
        for name in dimensions.get(dimension, {}).get(value, [])
    )
