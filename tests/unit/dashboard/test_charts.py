"""KPI charts: the bucket still filling is drawn apart from the complete ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboard.charts import metric_chart

HOUR = timedelta(hours=1)
START = datetime(2024, 6, 30, 0, 0, tzinfo=UTC)
NOW = START + 2 * HOUR + timedelta(minutes=38)


def series(*values: float) -> pd.DataFrame:
    return pd.DataFrame({"start": [START + i * HOUR for i in range(len(values))],
                         "value": list(values)})  # fmt: skip


def chart(*values: float, in_progress: bool, level: bool = False) -> list:
    figure = metric_chart(series(*values), title="Deposits", unit="CNY", zone="UTC",
                          level=level, window=(START, NOW), in_progress=in_progress)  # fmt: skip
    return list(figure.data)


def test_without_a_bucket_in_progress_one_step_line_holds_every_point():
    (line,) = chart(10.0, 12.0, 3.0, in_progress=False)
    assert list(line.y) == [10.0, 12.0, 3.0]
    assert line.line.shape == "hv"


def test_the_bucket_in_progress_is_dotted_to_the_windows_end_and_hovers_as_so_far():
    done, carried, dotted, so_far = chart(10.0, 12.0, 3.0, in_progress=True)
    assert list(done.y) == [10.0, 12.0]
    assert list(carried.x) == ["2024-06-30T01:00:00", "2024-06-30T02:00:00"]
    assert list(carried.y) == [12.0, 12.0] and carried.hoverinfo == "skip"
    assert dotted.line.dash == "dot" and dotted.hoverinfo == "skip"
    assert list(dotted.x) == ["2024-06-30T02:00:00", "2024-06-30T02:00:00", "2024-06-30T02:38:00"]
    assert list(dotted.y) == [12.0, 3.0, 3.0]
    assert list(so_far.y) == [3.0] and so_far.name == "Deposits (so far)"


def test_a_level_is_one_area_even_when_the_last_bucket_is_open():
    (area,) = chart(10.0, 12.0, 13.0, in_progress=True, level=True)
    assert area.fill == "tozeroy" and list(area.y) == [10.0, 12.0, 13.0]
