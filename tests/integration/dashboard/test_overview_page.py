"""The Overview page's tiles show what the metrics query API says, formatted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard import format as fmt
from dashboard.loaders import overview
from dashboard.timerange import custom
from ingest.metrics.query import MetricsQuery
from tests.integration.dashboard.apptest import RANGE, app, run, texts
from tests.integration.dashboard.world import World

SPAN = custom(datetime(2024, 6, 30, 0, 0, tzinfo=UTC), datetime(2024, 6, 30, 6, 0, tzinfo=UTC))


def expected_tiles(world: World, dims: dict[str, str] | None = None) -> dict[str, tuple]:
    """label -> (value, delta vs previous period, yesterday line), from the query API."""
    query, dims = world.query, dims or {}
    found = {}
    for name in world.settings.dashboard.overview:
        metric = query.metric(name)
        dim = dims.get(name)
        value = query.value_between(name, SPAN.start, SPAN.end, dim=dim)
        previous = query.value_between(name, *SPAN.previous, dim=dim)
        yesterday = query.value_between(name, *SPAN.yesterday(query.zone), dim=dim)
        label = metric.title if dim is None else f"{metric.title} · {dim}"
        found[label] = (
            fmt.figure(value, metric.unit),
            fmt.delta(value, previous, metric.unit),
            f"vs same time yesterday: {fmt.delta(value, yesterday, metric.unit) or '—'} "
            f"({fmt.figure(yesterday, metric.unit)})",
        )
    return found


def shown_tiles(test) -> dict[str, tuple]:
    lines = [c for c in texts(test.caption) if c.startswith("vs same time yesterday")]
    metrics = list(test.metric)
    assert len(lines) == len(metrics)
    return {
        m.label: (m.value, m.delta or None, line) for m, line in zip(metrics, lines, strict=True)
    }


def test_every_tile_shows_the_query_apis_value_and_comparisons(world: World):
    test = run(app(**RANGE))
    shown = shown_tiles(test)
    assert shown == expected_tiles(world)
    assert len(shown) == 8 and all(value != fmt.NONE for value, _, _ in shown.values())
    assert "2024-06-30 08:00 – 2024-06-30 14:00 (Asia/Shanghai)" in texts(test.caption)[0]


def test_every_tile_has_its_chart(world: World):
    test = run(app(**RANGE))
    assert len(test.get("plotly_chart")) == len(world.settings.dashboard.overview)


def test_a_channel_filter_narrows_the_metrics_split_by_that_channel_only(world: World):
    test = run(app(**RANGE, channel="alipay"))
    shown = shown_tiles(test)
    assert shown == expected_tiles(world, {"deposits": "alipay"})
    assert "充值额 Deposits · alipay" in shown  # payment channels
    assert "新增注册 New users" in shown  # registration channels have no "alipay": all of them


def test_a_product_filter_reaches_ratios_whose_parts_share_it(world: World):
    test = run(app(**RANGE, product="car"))
    split = ("investment_volume", "loans_disbursed", "approval_rate")
    assert shown_tiles(test) == expected_tiles(world, dict.fromkeys(split, "car"))


def test_amounts_read_in_wan_when_that_unit_is_picked(world: World):
    test = run(app(**RANGE))
    test.sidebar.selectbox(key="amount_unit").set_value("wan")
    run(test)
    deposits = next(m for m in test.metric if m.label == "充值额 Deposits")
    value = world.query.value_between("deposits", SPAN.start, SPAN.end)
    assert deposits.value == fmt.amount(value, "wan") and deposits.value.endswith("万")


def test_the_filters_offer_the_values_seen_per_dimension(world: World):
    names = world.settings.dashboard.overview
    dimensions = overview.dimension_values(world.query, names)
    assert set(dimensions["channel"]) == {"alipay", "unionpay", "wechat_pay", "app", "web",
                                          "partner"}  # fmt: skip
    assert dimensions["channel"]["alipay"] == ["deposits"]
    assert dimensions["channel"]["web"] == ["new_users"]
    assert set(dimensions["product"]["car"]) == {"investment_volume", "loans_disbursed",
                                                 "approval_rate"}  # fmt: skip


@pytest.mark.parametrize("name", ["deposits", "new_users", "approval_rate"])
def test_a_window_figures_series_covers_the_tile_value(world: World, name: str):
    query: MetricsQuery = world.query
    tile = overview.tile(query, name, SPAN)
    assert len(tile.series) == SPAN.seconds // 300  # every 5 minutes
    if name == "approval_rate":  # a ratio: each point is its own sum over sum
        assert tile.series["value"].dropna().between(0, 1).all()
    else:
        assert tile.series["value"].fillna(0).sum() == pytest.approx(float(tile.value))


def test_a_levels_chart_ends_at_the_tiles_level(world: World):
    tile = overview.tile(world.query, "aum", SPAN)
    assert tile.level
    assert tile.series["value"].iloc[-1] == pytest.approx(float(tile.value))


def test_a_range_ending_on_a_bucket_boundary_has_no_bucket_in_progress(world: World):
    tile = overview.tile(world.query, "deposits", SPAN)  # 6 h every 5 minutes
    assert not tile.in_progress
    assert len(tile.spark) == len(tile.series)


OPEN = custom(datetime(2024, 6, 29, 5, 38, tzinfo=UTC), datetime(2024, 6, 30, 5, 38, tzinfo=UTC))


def test_the_bucket_still_filling_is_flagged_and_left_out_of_the_sparkline(world: World):
    assert OPEN.step == "1h"
    tile = overview.tile(world.query, "deposits", OPEN)
    assert tile.series["start"].iloc[-1] == datetime(2024, 6, 30, 5, 0, tzinfo=UTC)
    assert tile.in_progress  # 05:00-06:00 holds 05:00-05:38 so far
    assert tile.spark == [0.0 if v != v else v for v in tile.series["value"].iloc[:-1]]


def test_a_level_is_never_in_progress(world: World):
    assert not overview.tile(world.query, "aum", OPEN).in_progress
