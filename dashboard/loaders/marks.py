"""What an Overview chart marks of the alert rules on its metric: threshold lines, and the
periods the rules fired (shaded).

A threshold is drawn only where it compares with the plotted points: on a scale-free
metric (a ratio, a level, an average, a quantile, a duration), or when the rule's window
is the chart's step. A sum over 10 minutes is not comparable with points of one hour, and a
``drop > 50%`` rule judges a change, not the value, so neither gets a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest.alerts.rules import AlertRule
from ingest.metrics.definitions import (
    CumulativeMetric,
    DifferenceMetric,
    DurationMetric,
    EventMetric,
    RatioMetric,
    is_level,
)
from ingest.metrics.query import MetricsQuery
from ingest.metrics.windows import WindowError, parse_duration

SCALE_FREE_KINDS = ("avg", "min", "max", "quantile")


@dataclass(frozen=True)
class Threshold:
    value: float
    label: str


@dataclass(frozen=True)
class Period:
    """[start, end) a rule was active; ``end`` None while it still is."""

    start: datetime
    end: datetime | None
    label: str


def scale_free(query: MetricsQuery, name: str) -> bool:
    """Whether the metric's value does not grow with its window's length."""
    metric = query.metric(name)
    if isinstance(metric, RatioMetric | CumulativeMetric | DurationMetric):
        return True
    if isinstance(metric, EventMetric):
        return metric.kind in SCALE_FREE_KINDS
    if isinstance(metric, DifferenceMetric):
        return is_level(query.metric(metric.minuend))
    return False


def thresholds(
    query: MetricsQuery, rules: tuple[AlertRule, ...], metric: str, dim: str | None,
    step_seconds: int,
) -> list[Threshold]:  # fmt: skip
    """Lines for the rules on ``metric`` (and on the chart's dimension value) whose limit
    compares with the chart's points."""
    lines: list[Threshold] = []
    free = scale_free(query, metric)
    for rule in rules:
        condition = rule.parsed()
        if rule.metric != metric or rule.dim != dim or condition.is_change:
            continue
        if not (free or _seconds(rule.window) == step_seconds):
            continue
        if isinstance(condition.threshold, tuple):
            lo, hi = condition.threshold
            lines += [
                Threshold(lo, f"{rule.name} < {lo:g}"),
                Threshold(hi, f"{rule.name} > {hi:g}"),
            ]
        else:
            lines.append(
                Threshold(
                    condition.threshold, f"{rule.name} {condition.op} {condition.threshold:g}"
                )
            )
    return lines


def _seconds(window: str) -> int | None:
    try:
        return parse_duration(window)
    except WindowError:
        return None  # a calendar window (today, this_week)
