"""Every shipped metric, over every window and series step, equals the truth computed
straight from the events table (exact for sums and counts, within 2% for sketches)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingest.metrics.definitions import AnyMetric, DifferenceMetric, EventMetric, RatioMetric
from ingest.metrics.query import QueryError
from tests.integration.metrics.conftest import FIRST_RUN_WINDOWS, World, first_run_times
from tests.integration.metrics.history import END, START
from tests.integration.metrics.oracle import agrees, window_bounds

WINDOWS = ("5m", "1h", "24h", "today", "yesterday", "this_week")
AT = [
    datetime.fromisoformat(t)
    for t in (
        "2024-03-03T12:00:00+00:00",  # Sunday 20:00 local: this_week began the Monday before
        "2024-03-03T16:00:30+00:00",  # Monday 00:00:30 local: today is one minute old
        "2024-03-04T15:59:59.500+00:00",  # Monday 23:59:59.5 local
        "2024-03-05T05:37:45+00:00",  # Tuesday 13:37:45, before the late arrivals came in
        "2024-03-05T08:20:00+00:00",  # Tuesday 16:20
        "2024-03-06T03:59:10+00:00",  # Wednesday 11:59:10, the end of the history
        "2024-03-07T01:00:00+00:00",  # Thursday 09:00: nothing happened today
    )
]
SERIES = {
    "1m": ("2024-03-04T15:00:00+00:00", "2024-03-04T17:00:00+00:00"),  # across local midnight
    "5m": ("2024-03-05T02:03:00+00:00", "2024-03-05T14:00:00+00:00"),  # start aligned down
    "1h": ("2024-03-03T03:17:00+00:00", "2024-03-06T05:00:00+00:00"),
    "1d": ("2024-03-02T09:00:00+00:00", "2024-03-07T16:00:00+00:00"),  # Sat 2 .. Thu 7 local
}


def dimension_of(world: World, metric: AnyMetric) -> str | None:
    if isinstance(metric, EventMetric):
        return metric.by
    if isinstance(metric, RatioMetric | DifferenceMetric):
        names = (
            (metric.numerator, metric.denominator)
            if isinstance(metric, RatioMetric)
            else (metric.minuend, metric.subtrahend)
        )
        dims = {dimension_of(world, world.truth.metrics[name]) for name in names}
        return dims.pop() if len(dims) == 1 else None
    return None


def split_metrics(world: World) -> list[AnyMetric]:
    return [m for m in world.settings.metrics if dimension_of(world, m) is not None]


def test_every_metric_over_every_window_equals_the_truth(world: World) -> None:
    zone = world.settings.business_timezone
    mismatches, checked, nonempty = [], 0, 0
    for metric in world.settings.metrics:
        for window in WINDOWS:
            for at in AT:
                got = world.query.value(metric.name, window, at)
                want = world.truth.value(metric.name, *window_bounds(window, at, zone))
                checked += 1
                nonempty += want not in (0, None)
                if not agrees(metric.kind, got, want):
                    mismatches.append((metric.name, window, at.isoformat(), got, want))
    assert not mismatches, f"{len(mismatches)} of {checked} differ: {mismatches[:10]}"
    assert nonempty > checked // 2, "the history should give most figures something to count"


def test_every_metric_has_something_to_show_in_the_history(world: World) -> None:
    zone = world.settings.business_timezone
    for metric in world.settings.metrics:
        figures = [world.truth.value(metric.name, *window_bounds("24h", at, zone)) for at in AT]
        assert any(f not in (0, None) for f in figures), metric.name


def test_money_figures_are_exact_decimals(world: World) -> None:
    at = AT[4]
    for name in ("deposits", "net_inflow", "aum", "outstanding_principal", "average_ticket"):
        value = world.query.value(name, "today", at)
        assert isinstance(value, Decimal), name
    assert world.query.value("deposits", "today", at) == world.truth.value(
        "deposits", *window_bounds("today", at, world.settings.business_timezone)
    )


def test_each_dimension_value_equals_the_truth(world: World) -> None:
    zone = world.settings.business_timezone
    mismatches, checked = [], 0
    for metric in split_metrics(world):
        dims = [*sorted(world.truth.dimension_values(metric.name)), "no_such_value"]
        assert len(dims) >= 3, metric.name
        for dim in dims:
            for window in ("1h", "24h", "today", "this_week"):
                for at in (AT[3], AT[5]):
                    got = world.query.value(metric.name, window, at, dim=dim)
                    want = world.truth.value(metric.name, *window_bounds(window, at, zone), dim)
                    checked += 1
                    if not agrees(metric.kind, got, want):
                        mismatches.append((metric.name, dim, window, at.isoformat(), got, want))
    assert not mismatches, f"{len(mismatches)} of {checked} differ: {mismatches[:10]}"


@pytest.mark.parametrize("step", list(SERIES))
def test_every_metric_as_a_series_equals_the_truth(world: World, step: str) -> None:
    first, last = (datetime.fromisoformat(t) for t in SERIES[step])
    mismatches = []
    for metric in world.settings.metrics:
        points = world.query.series(metric.name, first, last, step)
        got = [(int(p.start.timestamp()), p.by, p.value) for p in points]
        want = world.truth.series(metric.name, first, last, step, None)
        assert [g[:2] for g in got] == [w[:2] for w in want], metric.name
        mismatches += [
            (metric.name, g, w)
            for g, w in zip(got, want, strict=True)
            if not agrees(metric.kind, g[2], w[2])
        ]
    assert not mismatches, f"{len(mismatches)} points differ: {mismatches[:10]}"


@pytest.mark.parametrize("step", list(SERIES))
def test_a_series_split_by_its_dimension_equals_the_truth(world: World, step: str) -> None:
    first, last = (datetime.fromisoformat(t) for t in SERIES[step])
    mismatches = []
    for metric in split_metrics(world):
        by = dimension_of(world, metric)
        points = world.query.series(metric.name, first, last, step, by=by)
        got = [(int(p.start.timestamp()), p.by, p.value) for p in points]
        want = world.truth.series(metric.name, first, last, step, by)
        assert [g[:2] for g in got] == [w[:2] for w in want], metric.name
        assert step in ("1m", "5m") or len({g[1] for g in got}) >= 2, metric.name
        mismatches += [
            (metric.name, g, w)
            for g, w in zip(got, want, strict=True)
            if not agrees(metric.kind, g[2], w[2])
        ]
    assert not mismatches, f"{len(mismatches)} points differ: {mismatches[:10]}"


def test_series_points_start_at_utc_instants_a_step_apart(world: World) -> None:
    first, last = (datetime.fromisoformat(t) for t in SERIES["1d"])
    points = world.query.series("deposits", first, last, "1d")
    assert [p.start for p in points] == [
        datetime(2024, 3, day, 16, tzinfo=UTC) for day in range(1, 7)
    ]  # local midnights of 2..7 March
    hourly = world.query.series("deposit_count", START, END, "1h")
    gaps = {b.start.timestamp() - a.start.timestamp() for a, b in itertools.pairwise(hourly)}
    assert gaps == {3600}
    assert sum(p.value for p in hourly) == world.truth.value(  # type: ignore[misc]
        "deposit_count", int(START.timestamp()), int(END.timestamp())
    )


def test_a_dimension_the_metric_lacks_is_refused(world: World) -> None:
    with pytest.raises(QueryError, match="withdrawals has no dimension"):
        world.query.value("withdrawals", "24h", AT[4], dim="alipay")
    with pytest.raises(QueryError, match="net_inflow has no dimension"):
        world.query.value("net_inflow", "24h", AT[4], dim="alipay")
    with pytest.raises(QueryError, match="deposits has no dimension 'product'"):
        world.query.series("deposits", START, END, "1h", by="product")


def test_unknown_metrics_and_bad_steps_are_refused(world: World) -> None:
    with pytest.raises(QueryError, match="unknown metric 'deposit' \\(metrics: "):
        world.query.value("deposit", "1h", AT[4])
    with pytest.raises(QueryError, match="whole minutes"):
        world.query.series("deposits", START, END, "30s")


# --- late events and incremental runs ------------------------------------------------------


def test_late_events_are_counted(world: World) -> None:
    counters = world.counters()
    expected = world.truth.late_events(world.read_types())
    deliberately_late = sum(1 for p in world.planned if p.late)
    assert counters.get("late_events") == expected == deliberately_late > 0
    problems = set(counters) - {"late_events", "watermark", "recorded"}
    assert not problems, problems


def test_a_late_event_updates_a_bucket_an_earlier_run_wrote(world: World) -> None:
    zone = world.settings.business_timezone
    at = world.late.occurred
    bounds = window_bounds("1h", at, zone)
    assert world.late_before == world.first_truth.value("deposits", *bounds)
    after = world.query.value("deposits", "1h", at)
    assert after == world.truth.value("deposits", *bounds)
    late_amount = world.late.event.amount  # type: ignore[attr-defined]
    assert after - world.late_before >= late_amount  # type: ignore[operator]


def test_the_first_run_already_gave_the_truth_about_what_had_arrived(world: World) -> None:
    zone = world.settings.business_timezone
    mismatches = []
    for (name, window, at), got in world.first_run.items():
        want = world.first_truth.value(name, *window_bounds(window, at, zone))
        kind = world.truth.metrics[name].kind
        if not agrees(kind, got, want):
            mismatches.append((name, window, at.isoformat(), got, want))
    assert len(world.first_run) == len(world.settings.metrics) * len(FIRST_RUN_WINDOWS) * len(
        first_run_times()
    )
    assert not mismatches, mismatches[:10]
