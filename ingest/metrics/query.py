"""The query API over metric buckets: ``value(metric, window, at)``, ``series(metric, start,
end, step, by)`` and their batch forms ``figures(requests)`` and ``series_many(metrics, ...)``.
Used by the CLI, alerts and the dashboard.

Every call reads on one connection with two statements, however many metrics and windows it
answers: the active generation with the metrics still being backfilled, then every bucket
row it needs (one ``UNION ALL`` branch per metric and range, each one range of the bucket
key), fetched at once from the driver and folded into per-point columns in one pass.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby, repeat
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, select

from domain.clock import Clock, utc_now
from ingest.bulk import param_mark
from ingest.metrics.definitions import (
    AnyMetric,
    CumulativeMetric,
    DurationMetric,
    EventMetric,
    RatioMetric,
    is_sampled,
    parts,
)
from ingest.metrics.sketches import QuantileSketch, merge_distinct
from ingest.metrics.storage import definitions, table_for
from ingest.metrics.timegrid import (
    DAY,
    HOUR,
    MINUTE,
    business_day_start,
    floor_to,
    from_epoch,
    tile,
    to_epoch,
)
from ingest.metrics.windows import Window, parse_duration
from ingest.readmodel import generations

Number = int | float | Decimal | None
# a bucket row as read: select number, bucket_start, dim (None unless asked for), n, total,
# vmin, vmax (None unless the kind keeps extremes), sketch (None unless it is a sketch kind)
Row = tuple[int, int, str | None, int, int, int | None, int | None, bytes | None]
# what one branch of the bucket read selects: resolution, [from, to), one dim value or all
Branch = tuple[int, int, int, str | None]
Rows = Mapping[tuple[Branch, str], "list[Row] | Summed"]
NO_NUMBER = "CAST(NULL AS BIGINT)"
MAX_SELECTS = 400  # per statement (SQLite allows 500 terms in a compound SELECT)


class Point(NamedTuple):
    """One point of a series: its start (UTC), the metric's value over its step, and the
    dimension value it is for (None: not split). (A named tuple: the 14,400 points of 20
    metrics over 30 days at 1 h are built in about 5 ms, 7.5 ms as frozen dataclasses.)"""

    start: datetime
    value: Number
    by: str | None = None


class Figure(NamedTuple):
    """One figure ``figures()`` answers: the metric over [start, end) in epoch seconds
    (minute-aligned), for one value of its dimension when ``dim`` is given."""

    metric: str
    start: int
    end: int
    dim: str | None = None


class QueryError(ValueError):
    """A query naming an unknown metric, a bad window or step, or a dimension it lacks."""


@dataclass(frozen=True)
class _Grid:
    """The points of a series: their starts and the resolution they are read from."""

    resolution: int
    step: int
    starts: list[int]
    end: int

    @property
    def window(self) -> Branch:
        return (self.resolution, self.starts[0], self.end, None)


class MetricsQuery:
    def __init__(
        self,
        engine: Engine,
        metrics: Sequence[AnyMetric],
        zone: str,
        *,
        group: str = "kpis",
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.metrics = {m.name: m for m in metrics}
        self.zone = zone
        self.group = group
        self.clock = clock

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: Any, *, clock: Clock = utc_now
    ) -> MetricsQuery:
        return cls(engine, settings.metrics, settings.business_timezone, clock=clock)

    def metric(self, name: str) -> AnyMetric:
        try:
            return self.metrics[name]
        except KeyError:
            known = ", ".join(sorted(self.metrics)) or "none declared"
            raise QueryError(f"unknown metric {name!r} (metrics: {known})") from None

    def dimension_of(self, metric: AnyMetric) -> str | None:
        """The field a metric splits by: its own `by`, or the one both its parts share."""
        pair = parts(metric)
        if pair is None:
            return getattr(metric, "by", None)
        shared = {self.dimension_of(self.metric(part)) for part in pair}
        return shared.pop() if len(shared) == 1 else None

    def stored_parts(self, metric: AnyMetric) -> list[AnyMetric]:
        """The metrics whose buckets a metric is computed from (itself when it is stored)."""
        pair = parts(metric)
        if pair is None:
            return [metric]
        return [leaf for part in pair for leaf in self.stored_parts(self.metric(part))]

    # --- figures -------------------------------------------------------------------------

    def value(
        self, metric: str, window: str, at: datetime | None = None, *, dim: str | None = None
    ) -> Number:
        """The metric over ``window`` ending at ``at`` (default now); ``dim``: one by-value."""
        start, end = Window(window).bounds(at or self.clock(), self.zone)
        return self.value_between(metric, start, end, dim=dim)

    def value_between(self, metric: str, start: int, end: int, *, dim: str | None = None) -> Number:
        """The metric over [start, end) in epoch seconds (minute-aligned)."""
        return self.figures([Figure(metric, start, end, dim)])[0]

    def samples_between(
        self, metric: str, start: int, end: int, *, dim: str | None = None
    ) -> int | None:
        """How many values a quantile or duration metric's figure over [start, end) is
        made of (None while the metric is being backfilled)."""
        definition = self.metric(metric)
        if not is_sampled(definition):
            raise QueryError(
                f"metric {metric} is a {definition.kind} metric; only quantile and duration "
                "metrics are made of samples"
            )
        request = Figure(metric, start, end, dim)
        self._check_dimension(definition, request)
        with self.engine.connect() as conn:
            generation, unfinished = self._state(conn)
            if self._unfinished(definition, unfinished):
                return None
            reads = {branch: {metric: False} for branch in self._branches(definition, request)}
            rows = self._read(conn, generation, reads)
        return self._folded(definition, request, rows).n[0]

    def figures(self, requests: Iterable[Figure]) -> list[Number]:
        """Many figures (metrics, windows, dimension values) in one read, in request order.
        A metric still being backfilled has no figure (None): partial ones would mislead."""
        wanted = [Figure(*request) for request in requests]
        for request in wanted:
            self._check_dimension(self.metric(request.metric), request)
        if not wanted:
            return []
        with self.engine.connect() as conn:
            generation, unfinished = self._state(conn)
            ready = {r for r in wanted if not self._unfinished(self.metrics[r.metric], unfinished)}
            reads: dict[Branch, dict[str, bool]] = {}
            for request in ready:
                for leaf in self.stored_parts(self.metrics[request.metric]):
                    for branch in self._branches(leaf, request):
                        reads.setdefault(branch, {})[leaf.name] = False
            rows = self._read(conn, generation, reads)
        return [
            self._figure(self.metrics[r.metric], r, rows) if r in ready else None for r in wanted
        ]

    def backfilling(self, metric: str) -> bool:
        """True while the metric (or a part of it) is still being computed from history."""
        definition = self.metric(metric)
        with self.engine.connect() as conn:
            return self._unfinished(definition, self._state(conn)[1])

    def _branches(self, leaf: AnyMetric, request: Figure) -> list[Branch]:
        start = 0 if isinstance(leaf, CumulativeMetric) else request.start  # a level: all history
        return [(*piece, request.dim) for piece in tile(start, request.end, self.zone)]

    def _check_dimension(self, metric: AnyMetric, request: Figure) -> None:
        if request.dim is not None and self.dimension_of(metric) is None:
            raise QueryError(
                f"metric {request.metric} has no dimension (`by`) to select {request.dim!r} from"
            )

    def _figure(self, metric: AnyMetric, request: Figure, rows: Rows) -> Number:
        pair = parts(metric)
        if pair is not None:
            a, b = (self._figure(self.metric(p), request, rows) for p in pair)
            return derive(metric, a, b)
        return self._folded(metric, request, rows).values(metric)[0]

    def _folded(self, metric: AnyMetric, request: Figure, rows: Rows) -> Folded:
        """A stored metric's bucket rows for ``request``, added up into one point."""
        folded = Folded(1)
        for branch in self._branches(metric, request):
            for row in rows.get((branch, metric.name), ()):
                folded.add(0, row)
        return folded

    # --- series --------------------------------------------------------------------------

    def series(
        self, metric: str, start: datetime, end: datetime, step: str, by: str | None = None
    ) -> list[Point]:
        """Points every ``step`` from ``start`` (aligned down) to ``end``; ``by``: split by
        the metric's dimension."""
        return self.series_many([metric], start, end, step, by)[metric]

    def series_many(
        self,
        metrics: Iterable[str],
        start: datetime,
        end: datetime,
        step: str,
        by: str | Mapping[str, str | None] | None = None,
    ) -> dict[str, list[Point]]:
        """``series()`` of several metrics over the same points, in one read. ``by``: one
        dimension every metric is split by, or one per metric (a metric not in the mapping
        is not split)."""
        names = list(dict.fromkeys(metrics))
        split: dict[str, bool] = {}
        for name in names:
            definition = self.metric(name)
            dimension = by.get(name) if isinstance(by, Mapping) else by
            if dimension is not None and self.dimension_of(definition) != dimension:
                raise QueryError(f"metric {name} has no dimension {dimension!r}")
            split[name] = dimension is not None
        grid = self._grid(start, end, step)
        if not names or not grid.starts:
            return {name: [] for name in names}
        with self.engine.connect() as conn:
            generation, unfinished = self._state(conn)
            ready = [name for name in names if not self._unfinished(self.metrics[name], unfinished)]
            reads: dict[Branch, dict[str, bool]] = {}
            for name in ready:
                for leaf in self.stored_parts(self.metrics[name]):
                    wanted = reads.setdefault(grid.window, {})
                    wanted[leaf.name] = wanted.get(leaf.name, False) or split[name]
                    if isinstance(leaf, CumulativeMetric):  # its level before the first point
                        for piece in tile(0, grid.starts[0], self.zone):
                            reads.setdefault((*piece, None), {})[leaf.name] = False
            rows = self._read(conn, generation, reads)
        moments = [from_epoch(point) for point in grid.starts]
        found: dict[tuple[str, bool], dict[str | None, list[Number]]] = {}
        out: dict[str, list[Point]] = {}
        for name in names:
            if name not in ready:
                out[name] = [Point(moment, None, None) for moment in moments]
                continue
            values = self._series(self.metrics[name], split[name], grid, rows, found)
            points: list[Point] = []
            for dim in sorted(values, key=lambda d: (d is None, d)):
                # tuple.__new__ builds a Point without a Python call per point (half the
                # time of Point(...) for the 14,400 points of 20 series of 30 days)
                points += map(_new_tuple, repeat(Point), zip(moments, values[dim], repeat(dim)))
            out[name] = points
        return out

    def _grid(self, start: datetime, end: datetime, step: str) -> _Grid:
        step_s = parse_duration(step)
        if step_s % MINUTE:
            raise QueryError(f"step {step!r} must be whole minutes")
        resolution = DAY if step_s % DAY == 0 else HOUR if step_s % HOUR == 0 else MINUTE
        first = self._align(to_epoch(start), resolution, step_s)
        last = to_epoch(end)
        if resolution == DAY:
            starts = self._days(first, last, step_s)
        else:
            starts = list(range(first, last, step_s))
        return _Grid(resolution, step_s, starts, last)

    def _series(
        self, metric: AnyMetric, split: bool, grid: _Grid, rows: Rows,
        found: dict[tuple[str, bool], dict[str | None, list[Number]]],
    ) -> dict[str | None, list[Number]]:  # fmt: skip
        """Per dimension value (None: not split), the metric's value at every point."""
        key = (metric.name, split)
        if key in found:
            return found[key]
        pair = parts(metric)
        if pair is None:
            values = self._stored_series(metric, split, grid, rows)
        else:
            a, b = (self._series(self.metric(p), split, grid, rows, found) for p in pair)
            dims = a.keys() | b.keys()
            if split and any(dim is not None for dim in dims):
                dims = {dim for dim in dims if dim is not None}  # drop "no rows" runs
            size = len(grid.starts)
            values = {}
            for dim in dims:
                # a dimension value one part lacks: that part's figure over no rows
                x = a[dim] if dim in a else Folded(size).values(self.metric(pair[0]))
                y = b[dim] if dim in b else Folded(size).values(self.metric(pair[1]))
                values[dim] = derive_all(metric, x, y)
        found[key] = values
        return values

    def _stored_series(
        self, metric: AnyMetric, split: bool, grid: _Grid, rows: Rows
    ) -> dict[str | None, list[Number]]:
        starts, size = grid.starts, len(grid.starts)
        first, step, regular = starts[0], grid.step, grid.resolution != DAY
        found = rows.get((grid.window, metric.name), ())
        runs: dict[str | None, Folded] = {} if split else {None: Folded(size)}
        # the usual case: one row per bucket (dimension values added up in the database),
        # one bucket per point: the counts and totals are looked up by their starts
        placed = not split and step == grid.resolution and not self._columns(metric.name)
        if placed and _place(runs[None], found, starts):
            found = ()
        if found and not split and regular:  # one run, each row added to its point
            add = runs[None].add
            for row in found:
                add((row[1] - first) // step, row)
            found = ()
        for row in found:
            dim = row[2] if split else None
            folded = runs.get(dim)
            if folded is None:
                runs[dim] = folded = Folded(size)
            # the point a bucket belongs to: the last one starting at or before it
            # (business days are not a fixed number of seconds apart)
            folded.add((row[1] - first) // step if regular else bisect_right(starts, row[1]) - 1,
                       row)  # fmt: skip
        if not runs:
            runs[None] = Folded(size)
        values = {dim: folded.values(metric) for dim, folded in runs.items()}
        if isinstance(metric, CumulativeMetric):  # a level: every delta before each point's end
            before = Folded(1)
            for piece in tile(0, first, self.zone):
                for row in rows.get(((*piece, None), metric.name), ()):
                    before.add(0, row)
            base = before.values(metric)[0]
            running = base if isinstance(base, Decimal) and base else Decimal(0)
            levels: list[Number] = []
            for change in values[None]:
                running += change if isinstance(change, Decimal) and change else Decimal(0)
                levels.append(running)
            values[None] = levels
        return values

    def _align(self, epoch: int, resolution: int, step: int) -> int:
        if resolution == DAY:
            return business_day_start(floor_to(epoch, HOUR), self.zone)
        return floor_to(epoch, step)

    def _days(self, first: int, last: int, step: int) -> list[int]:
        days: list[int] = []
        current = first
        while current < last:
            days.append(current)
            for _ in range(step // DAY):
                current = business_day_start(floor_to(current + DAY + 2 * HOUR, HOUR), self.zone)
        return days

    # --- reading -------------------------------------------------------------------------

    def _state(self, conn: Connection) -> tuple[int, set[str]]:
        """The active generation and the metrics in it that are still being backfilled."""
        mark = param_mark(conn)
        found = conn.exec_driver_sql(
            f"SELECT a.generation, d.metric FROM (SELECT coalesce((SELECT active FROM "
            f"{generations.name} WHERE group_name = {mark}), 1) AS generation) a "
            f"LEFT JOIN {definitions.name} d ON d.generation = a.generation AND d.live = 0",
            (self.group,),
        ).all()
        return int(found[0][0]), {str(row[1]) for row in found if row[1] is not None}

    def _unfinished(self, metric: AnyMetric, unfinished: Collection[str]) -> bool:
        return any(name in unfinished for name in (metric.name, *(parts(metric) or ())))

    def _read(
        self, conn: Connection, generation: int, reads: Mapping[Branch, Mapping[str, bool]]
    ) -> dict[tuple[Branch, str], list[Row] | Summed]:
        """Every bucket row each branch names (per branch, metric -> whether its rows'
        dimension values are wanted; False: all values are added up), in one statement
        (or one per ``MAX_SELECTS`` ranges)."""
        wanted = [(branch, name, dims) for branch, names in reads.items()
                  for name, dims in names.items()]  # fmt: skip
        out: dict[tuple[Branch, str], list[Row] | Summed] = {}
        postgres = conn.dialect.name == "postgresql"
        for first in range(0, len(wanted), MAX_SELECTS):
            chunk = wanted[first : first + MAX_SELECTS]
            sql, params = _bucket_sql(conn, generation, [
                (branch, name, dims, self._columns(name)) for branch, name, dims in chunk
            ])  # fmt: skip
            # The driver's cursor and one fetchall: SQLAlchemy's result rows would cost about
            # 1 us a row, and a 30-day hourly series of 20 metrics reads tens of thousands.
            cursor = conn.connection.cursor(binary=True) if postgres else conn.connection.cursor()
            try:
                cursor.execute(sql, params)
                fetched = cursor.fetchall()
            finally:
                cursor.close()
            if postgres:  # one row of arrays per branch (see _bucket_sql)
                for number, starts, dims, n, total, low, high, sketches in fetched:
                    if starts is None:  # no rows in the range
                        continue
                    branch, name, split = chunk[number]
                    if not split and not self._columns(name):
                        out[branch, name] = Summed(starts, n, total)
                        continue
                    none = repeat(None)
                    out[branch, name] = list(zip(
                        repeat(number), starts, dims or none, n, total, low or none,
                        high or none, sketches or none,
                    ))  # fmt: skip
                continue
            listed: dict[tuple[Branch, str], list[Row]] = {}
            for number, rows in groupby(fetched, itemgetter(0)):
                branch, name, _ = chunk[number]
                listed.setdefault((branch, name), []).extend(rows)
            out.update(listed)
        return out

    def _columns(self, name: str) -> str:
        """The bucket columns a stored metric's figures need beside n and total."""
        kind = self.metrics[name].kind
        if kind in ("distinct", "quantile", "duration"):
            return "sketch"
        return "vmin, vmax" if kind in ("min", "max") else ""


def _bucket_sql(
    conn: Connection, generation: int, selects: Sequence[tuple[Branch, str, bool, str]]
) -> tuple[str, list[Any]]:
    """One ``SELECT`` per (range, metric), each one range of the bucket key (generation,
    metric, resolution, bucket_start, dim), in a ``UNION ALL``. (An ``IN`` list or ``= ANY``
    of metrics per range would make fewer branches, but PostgreSQL, without statistics on
    the table, turned ``= ANY`` of 17 metrics into a filter over every metric's rows in the
    range: 29 ms instead of 8 ms for 16k hour rows.) Columns a metric does not need are
    NULLs, typed so that PostgreSQL can match the branches' column types. Rows whose
    dimension values are not wanted and that hold no sketch are added up per bucket start in
    the database (in index order: no sort), so the driver hands over one row per bucket
    instead of one per dimension value. On PostgreSQL each branch hands over its rows as
    one row of arrays (``_arrays``)."""
    mark = param_mark(conn)
    postgres = conn.dialect.name == "postgresql"
    blob = "BYTEA" if postgres else "BLOB"
    statements, params = [], []
    for number, ((resolution, low, high, dim), name, dims, columns) in enumerate(selects):
        added = not dims and columns != "sketch"
        chosen = ", ".join((
            "dim" if dims else "CAST(NULL AS VARCHAR)",
            "CAST(sum(n) AS BIGINT), CAST(sum(total) AS BIGINT)" if added else "n, total",
            ("min(vmin), max(vmax)" if added else "vmin, vmax") if columns == "vmin, vmax"
            else f"{NO_NUMBER}, {NO_NUMBER}",
            "sketch" if columns == "sketch" else f"CAST(NULL AS {blob})",
        ))  # fmt: skip
        statement = (
            f"SELECT {number}, bucket_start, {chosen} FROM {table_for(resolution).name} "
            f"WHERE generation = {mark} AND metric = {mark} AND resolution = {mark} "
            f"AND bucket_start >= {mark} AND bucket_start < {mark}"
            + ("" if dim is None else f" AND dim = {mark}")
            + (" GROUP BY bucket_start" if added else "")
        )
        if postgres:
            statement = _arrays(number, statement, dims, columns, added)
        statements.append(statement)
        params += [generation, name, resolution, low, high]
        if dim is not None:
            params.append(dim)
    return " UNION ALL ".join(statements), params


def _arrays(number: int, statement: str, dims: bool, columns: str, added: bool) -> str:
    """On PostgreSQL, a branch's rows as one row of arrays, a column each (NULL arrays for
    columns it does not need; NULLs when it has no rows): 17 branches of 30 days of hours
    hand over 17 rows of a few arrays in the binary format instead of 11.7k rows of eight
    columns (3-4 ms less to execute and fetch on the 1M-event bench store, and 11.7k tuples
    fewer for the garbage collector).
    The arrays are built in one aggregation, so their elements line up row by row, in the
    order of the branch (a bucket's dimension values in index order)."""
    if not added:  # (index order: no sort)
        statement += " ORDER BY bucket_start, dim"
    names = "k, bucket_start, dim, n, total, vmin, vmax, sketch"
    typed = {"dim": "VARCHAR[]", "vmin": "BIGINT[]", "vmax": "BIGINT[]", "sketch": "BYTEA[]"}
    needed = {"dim": dims, "vmin": columns == "vmin, vmax", "vmax": columns == "vmin, vmax",
              "sketch": columns == "sketch"}  # fmt: skip
    chosen = ", ".join(
        f"array_agg({c})" if needed.get(c, True) else f"CAST(NULL AS {typed[c]})"
        for c in names.split(", ")[1:]
    )
    return f"SELECT {number}, {chosen} FROM ({statement}) AS b{number} ({names})"


def active_generation(conn: Connection, group: str) -> int:
    found = conn.execute(
        select(generations.c.active).where(generations.c.group_name == group)
    ).scalar()
    return 1 if found is None else int(found)


def derive(metric: AnyMetric, a: Number, b: Number) -> Number:
    """A ratio (sum over sum, level over level) or a difference of two figures."""
    if isinstance(metric, RatioMetric):
        if a is None or not b:
            return None
        return float(Decimal(a) / Decimal(b))
    return Decimal(a or 0) - Decimal(b or 0)


def derive_all(metric: AnyMetric, a: Sequence[Number], b: Sequence[Number]) -> list[Number]:
    """``derive`` of every pair of points (the same figures, without a call per point)."""
    if isinstance(metric, RatioMetric):
        return [
            None if x is None or not y else float(Decimal(x) / Decimal(y))
            for x, y in zip(a, b, strict=True)
        ]
    return [Decimal(x or 0) - Decimal(y or 0) for x, y in zip(a, b, strict=True)]


_new_tuple = tuple.__new__
_start, _n, _total = itemgetter(1), itemgetter(3), itemgetter(4)


class Summed:
    """The rows of a branch added up per bucket start in the database, as PostgreSQL hands
    them over: a column each. Iterated, its rows (with no dimension, extremes or sketch;
    their branch number, which nothing reads from them, 0)."""

    __slots__ = ("n", "starts", "total")

    def __init__(self, starts: list[int], n: list[int], total: list[int]) -> None:
        self.starts, self.n, self.total = starts, n, total

    def __iter__(self) -> Iterator[Row]:
        none = repeat(None)
        return zip(repeat(0), self.starts, none, self.n, self.total, none, none, none)


def _place(folded: Folded, rows: Iterable[Row], starts: Sequence[int]) -> bool:
    """Put each row's count and total at the point starting at its bucket, when every row
    is the only one of its bucket and every bucket starts a point (the same sums as adding
    them up one row at a time); False, and nothing changed, otherwise."""
    if isinstance(rows, Summed):
        keys, n, total = rows.starts, rows.n, rows.total
    else:
        keys, n, total = list(map(_start, rows)), list(map(_n, rows)), list(map(_total, rows))
    if not keys:
        return True
    if keys == starts:  # a bucket at every point, in order
        folded.n, folded.total = list(n), list(total)
        return True
    counts = dict(zip(keys, n, strict=True))
    if len(counts) != len(keys) or not counts.keys() <= set(starts):
        return False
    totals = dict(zip(keys, total, strict=True))
    folded.n = list(map(counts.get, starts, repeat(0)))
    folded.total = list(map(totals.get, starts, repeat(0)))
    return True


class Folded:
    """Bucket rows added up per point: counts and totals summed, the extremes kept, the
    sketches listed; then the metric's figure at every point (sum over sum, sketch merges)."""

    __slots__ = ("high", "low", "n", "sketches", "total")

    def __init__(self, size: int) -> None:
        self.n = [0] * size
        self.total = [0] * size
        self.low: list[int | None] = [None] * size
        self.high: list[int | None] = [None] * size
        self.sketches: list[list[bytes] | None] = [None] * size

    def add(self, point: int, row: Row) -> None:
        self.n[point] += row[3]
        self.total[point] += row[4]
        low, high, sketch = row[5], row[6], row[7]
        if low is not None:
            kept = self.low[point]
            self.low[point] = low if kept is None else min(kept, low)
        if high is not None:
            kept = self.high[point]
            self.high[point] = high if kept is None else max(kept, high)
        if sketch is not None:
            listed = self.sketches[point]
            if listed is None:
                self.sketches[point] = [sketch]
            else:
                listed.append(sketch)

    def values(self, metric: AnyMetric) -> list[Number]:
        if isinstance(metric, DurationMetric):
            return [_quantile(s or (), metric.q) for s in self.sketches]
        if isinstance(metric, CumulativeMetric):
            return list(map(Decimal.scaleb, map(Decimal, self.total), repeat(-metric.scale)))
        assert isinstance(metric, EventMetric)
        kind, exponent = metric.kind, -metric.scale
        if kind == "count":
            return list(self.n)
        if kind == "distinct":  # no values: zero distinct values
            return [round(merge_distinct(s or [])) for s in self.sketches]
        if kind == "sum":
            return list(map(Decimal.scaleb, map(Decimal, self.total), repeat(exponent)))
        if kind == "avg":
            return [
                (Decimal(t) / n).scaleb(exponent) if n else None
                for n, t in zip(self.n, self.total, strict=True)
            ]
        if kind in ("min", "max"):
            extremes = self.low if kind == "min" else self.high
            return [
                Decimal(v).scaleb(exponent) if n and v is not None else None
                for n, v in zip(self.n, extremes, strict=True)
            ]
        q = metric.q or 0.5
        return [
            _quantile(s or (), q) if n else None for n, s in zip(self.n, self.sketches, strict=True)
        ]


def _quantile(sketches: Iterable[bytes], q: float) -> float | None:
    sketch = QuantileSketch()
    for data in sketches:
        sketch.merge(QuantileSketch.from_bytes(data))
    return sketch.quantile(q)
