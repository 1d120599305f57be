"""The batch reads: ``series_many`` gives every metric's ``series`` and ``figures`` every
``value_between``, in two statements however many metrics and windows they answer."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event

from domain.eventstore.engine import make_engine
from ingest.metrics.definitions import CumulativeMetric
from ingest.metrics.query import Figure, MetricsQuery, QueryError
from ingest.metrics.timegrid import tile
from tests.integration.metrics.conftest import World
from tests.integration.metrics.history import END, START
from tests.integration.metrics.oracle import window_bounds

SERIES = {  # step -> (from, to): across local midnight, a start aligned down, whole days
    "1m": (END - timedelta(hours=20, minutes=13), END - timedelta(hours=18)),
    "5m": (START + timedelta(hours=22, minutes=3), START + timedelta(hours=34)),
    "1h": (START - timedelta(minutes=43), END + timedelta(hours=1)),
    "3h": (START + timedelta(hours=5), END),
    "1d": (START - timedelta(days=1), END + timedelta(days=1)),
}
AT = [START + timedelta(hours=h, minutes=m) for h, m in ((20, 0), (31, 17), (50, 59), (71, 0))]


@pytest.fixture
def counted(world: World) -> Iterator[tuple[MetricsQuery, list[str]]]:
    """A query over the world's database on an engine that records every SELECT the
    driver executes (SQLAlchemy's and the driver cursor's alike)."""
    statements: list[str] = []
    engine = make_engine(world.url, pool_size=1)
    _record_statements(engine, statements)
    try:
        with engine.connect():  # the dialect's first-connect queries
            pass
        statements.clear()
        yield MetricsQuery.from_settings(engine, world.settings), statements
    finally:
        engine.dispose()


def _record_statements(engine: Engine, statements: list[str]) -> None:
    def record(sql: str) -> None:
        text = sql.strip().upper()
        if text.startswith("SELECT") and text != "SELECT 1":  # not the pool's pings
            statements.append(sql)

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            record(str(query))
            return super().execute(query, params, **kwargs)

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection: Any, _record: Any) -> None:
        if engine.dialect.name == "postgresql":
            dbapi_connection.cursor_factory = Recording
        else:
            dbapi_connection.set_trace_callback(record)


def everything(world: World) -> list[str]:
    return [metric.name for metric in world.settings.metrics]


def splits(query: MetricsQuery, names: list[str]) -> dict[str, str | None]:
    return {name: query.dimension_of(query.metric(name)) for name in names}


@pytest.mark.parametrize("step", list(SERIES))
def test_series_many_gives_each_metrics_series_exactly(world: World, step: str) -> None:
    query, names = world.query, everything(world)
    first, last = SERIES[step]
    unsplit = query.series_many(names, first, last, step)
    split = query.series_many(names, first, last, step, by=splits(query, names))
    assert list(unsplit) == list(split) == names
    for name in names:
        # repr: the same values of the same types, down to a Decimal's exponent
        assert repr(unsplit[name]) == repr(query.series(name, first, last, step)), name
        by = query.dimension_of(query.metric(name))
        assert repr(split[name]) == repr(query.series(name, first, last, step, by=by)), name
    assert any(len({p.by for p in points}) > 1 for points in split.values())


def test_one_dimension_for_every_metric_applies_to_each(world: World) -> None:
    query = world.query
    first, last = SERIES["1h"]
    names = [m.name for m in world.settings.metrics if query.dimension_of(m) == "product"]
    assert len(names) >= 2
    found = query.series_many(names, first, last, "1h", by="product")
    for name in names:
        assert found[name] == query.series(name, first, last, "1h", by="product")
    with pytest.raises(QueryError, match="deposits has no dimension 'product'"):
        query.series_many([*names, "deposits"], first, last, "1h", by="product")


def test_figures_give_each_value_exactly(world: World) -> None:
    query, zone = world.query, world.settings.business_timezone
    requests = []
    for name in everything(world):
        dims = [None]
        if query.dimension_of(query.metric(name)) is not None:
            dims += [*sorted(world.truth.dims_between(name, 0, 2**40))[:2], "no_such_value"]
        for window in ("5m", "1h", "24h", "today", "this_week"):
            for at in AT:
                start, end = window_bounds(window, at, zone)
                requests += [Figure(name, start, end, dim) for dim in dims]
    assert len(requests) > 1000
    found = query.figures(requests)
    assert len(found) == len(requests)
    for request, value in zip(requests, found, strict=True):
        expected = query.value_between(request.metric, request.start, request.end, dim=request.dim)
        assert repr(value) == repr(expected), request


def test_series_many_of_every_metric_is_two_statements(
    world: World, counted: tuple[MetricsQuery, list[str]]
) -> None:
    query, statements = counted
    names = everything(world)
    assert len(names) >= 20
    kinds = {metric.kind for metric in world.settings.metrics}
    assert {"ratio", "difference", "cumulative", "distinct", "duration", "quantile"} <= kinds
    for step in SERIES:
        statements.clear()
        query.series_many(names, *SERIES[step], step, by=splits(query, names))
        assert len(statements) == 2, (step, statements)  # generation and state, the buckets


def test_figures_of_every_metric_and_window_are_two_statements(
    world: World, counted: tuple[MetricsQuery, list[str]]
) -> None:
    query, statements = counted
    zone = world.settings.business_timezone
    requests = [
        Figure(name, *window_bounds(window, at, zone))
        for name in everything(world)
        for window in ("1h", "24h", "this_week")
        for at in AT[:2]
    ]
    ranges = sum(
        len(tile(0 if isinstance(leaf, CumulativeMetric) else r.start, r.end, zone))
        for r in requests
        for leaf in query.stored_parts(query.metric(r.metric))
    )
    statements.clear()
    assert len(query.figures(requests)) == len(requests)
    # the state, then one per 400 ranges of one metric (SQLite allows 500 terms in a
    # compound SELECT); ranges that several figures share are read once
    assert 2 <= len(statements) <= 1 + math.ceil(ranges / 400) < len(requests) / 20
    statements.clear()
    query.value("net_inflow", "this_week", AT[2])  # a derived metric: its parts in one read
    assert len(statements) == 2


def test_empty_requests_read_nothing(world: World, counted: tuple[MetricsQuery, list[str]]) -> None:
    query, statements = counted
    assert query.figures([]) == []
    assert query.series_many([], START, END, "1h") == {}
    assert query.series_many(["deposits"], END, END, "1h") == {"deposits": []}
    assert statements == []


def test_a_point_starts_at_a_utc_instant(world: World) -> None:
    points = world.query.series_many(["aum", "deposits"], *SERIES["1d"], "1d")
    assert all(isinstance(p.start, datetime) and p.start.utcoffset() == timedelta(0)
               for series in points.values() for p in series)  # fmt: skip
