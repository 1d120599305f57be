"""`python -m ingest query`: the documented JSON shapes, with the API's figures digit for digit."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.settings import DATABASE_URL_ENV
from ingest import cli
from tests.integration.metrics.conftest import World

AT = "2024-03-05T08:20:00+00:00"
ROOT = Path(__file__).resolve().parents[3]


def run_query(world: World, *args: str) -> tuple[int, str, str]:
    """``python -m ingest --config <world's config> query ARGS`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--config", str(world.config_path), "query", *args])
    return code, out.getvalue(), err.getvalue()


def parsed(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def same_number(printed: Any, value: object) -> bool:
    if value is None or isinstance(value, int | Decimal):
        return printed == value and type(printed) is type(value)
    return isinstance(printed, Decimal) and float(printed) == value


def test_a_window_value_prints_metric_window_and_value_for_every_kind(world: World) -> None:
    at = datetime.fromisoformat(AT)
    one_of_each_kind = {metric.kind: metric for metric in world.settings.metrics}
    assert len(one_of_each_kind) >= 9
    for metric in one_of_each_kind.values():
        code, out, err = run_query(world, metric.name, "--window", "24h", "--at", AT, "--json")
        assert (code, err) == (0, ""), metric.name
        document = parsed(out)
        assert list(document) == ["metric", "window", "value"]
        assert document["metric"] == metric.name and document["window"] == "24h"
        assert same_number(document["value"], world.query.value(metric.name, "24h", at)), (
            metric.name,
            out,
        )


def test_a_money_figure_is_printed_digit_for_digit(world: World) -> None:
    code, out, _ = run_query(world, "deposits", "--window", "today", "--at", AT, "--json")
    value = world.query.value("deposits", "today", datetime.fromisoformat(AT))
    assert code == 0
    assert out.strip() == f'{{"metric": "deposits", "window": "today", "value": {value:f}}}'


def test_a_window_value_for_one_dimension_value(world: World) -> None:
    code, out, _ = run_query(
        world, "deposits", "--window", "24h", "--at", AT, "--dim", "alipay", "--json"
    )
    expected = world.query.value("deposits", "24h", datetime.fromisoformat(AT), dim="alipay")
    assert code == 0 and parsed(out)["value"] == expected


def test_a_series_prints_points_with_utc_start_value_and_by(world: World) -> None:
    start, end = "2024-03-04T16:00:00+00:00", "2024-03-05T16:00:00+00:00"
    for metric, by in (("deposits", "channel"), ("approval_rate", "product"), ("aum", None)):
        args = [metric, "--from", start, "--to", end, "--step", "1h", "--json"]
        code, out, err = run_query(world, *args, *(["--by", by] if by else []))
        assert (code, err) == (0, "")
        document = parsed(out)
        assert list(document) == ["metric", "points"] and document["metric"] == metric
        points = world.query.series(
            metric, datetime.fromisoformat(start), datetime.fromisoformat(end), "1h", by=by
        )
        assert len(document["points"]) == len(points) > 0
        for printed, point in zip(document["points"], points, strict=True):
            assert list(printed) == ["start", "value", "by"]
            assert printed["start"] == point.start.isoformat()
            assert printed["start"].endswith("+00:00")
            assert printed["by"] == point.by
            assert same_number(printed["value"], point.value), (metric, printed, point)
        split = {p["by"] for p in document["points"]}
        assert None not in split if by is not None else split == {None}


def test_the_text_output_reads_as_one_line_per_figure(world: World) -> None:
    code, out, _ = run_query(world, "deposit_count", "--window", "1h", "--at", AT)
    value = world.query.value("deposit_count", "1h", datetime.fromisoformat(AT))
    assert (code, out) == (0, f"deposit_count 1h: {value}\n")


def test_bad_queries_exit_2_with_a_message(world: World) -> None:
    code, out, err = run_query(world, "deposit", "--window", "1h")
    assert (code, out) == (2, "") and "query: unknown metric 'deposit'" in err
    code, _, err = run_query(world, "deposits", "--window", "last_week")
    assert code == 2 and "bad window 'last_week'" in err
    code, _, err = run_query(world, "withdrawals", "--window", "1h", "--dim", "alipay")
    assert code == 2 and "withdrawals has no dimension" in err
    code, _, err = run_query(world, "deposits")
    assert code == 2 and "either --window W or --from T" in err


def test_python_dash_m_ingest_query_runs_as_a_command(world: World) -> None:
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    command = [sys.executable, "-m", "ingest", "--config", str(world.config_path), "query"]
    done = subprocess.run(
        [*command, "net_inflow", "--window", "this_week", "--at", AT, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = world.query.value("net_inflow", "this_week", datetime.fromisoformat(AT))
    assert parsed(done.stdout) == {"metric": "net_inflow", "window": "this_week", "value": expected}
