"""What a rule sees at one moment: its metric over its window (or the change against the
base window), judged by its condition."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ingest.alerts.conditions import Outcome
from ingest.alerts.evaluator import Evaluation
from ingest.alerts.hours import within_hours
from ingest.alerts.rules import AlertRule
from ingest.metrics.definitions import AnyMetric
from ingest.metrics.query import Figure
from ingest.metrics.windows import Window

Number = int | float | Decimal | None


class MetricSource(Protocol):
    """What alerts need of the metrics (``ingest.metrics.query.MetricsQuery``)."""

    def metric(self, name: str) -> AnyMetric: ...

    def figures(self, requests: Iterable[Figure]) -> list[Number]: ...

    def samples_between(
        self, metric: str, start: int, end: int, *, dim: str | None = None
    ) -> int | None: ...


def observe(
    rule: AlertRule, metrics: MetricSource, at: datetime, zone: str, *, stale: bool = False
) -> Evaluation:
    """Evaluate ``rule`` at ``at``; a failing query is an ERROR outcome, never an exception."""
    if rule.active_hours is not None and not within_hours(rule.active_hours, at, zone):
        return Evaluation(
            Outcome.INACTIVE, at, stale=stale, detail=f"outside active hours {rule.active_hours}"
        )
    try:
        return _observe(rule, metrics, at, zone, stale)
    except Exception as exc:  # reported as the alert's `error` state, with the message
        return Evaluation(Outcome.ERROR, at, stale=stale, detail=f"{type(exc).__name__}: {exc}")


def _observe(
    rule: AlertRule, metrics: MetricSource, at: datetime, zone: str, stale: bool
) -> Evaluation:
    condition = rule.parsed()
    window = Window(rule.window)
    current, thin = _read(rule, metrics, *window.bounds(at, zone))
    if thin:
        return Evaluation(Outcome.NO_DATA, at, stale=stale, detail=thin, current=current)
    if not condition.is_change:
        if current is None:
            return Evaluation(Outcome.NO_DATA, at, stale=stale, detail="no data in the window")
        outcome = condition.judge(current)  # exact: a Decimal sum against the threshold
        return Evaluation(outcome, at, float(current), stale=stale, current=current)
    if rule.compare == "same_time_yesterday":
        start, end = window.same_time_yesterday(at, zone)
    else:
        start, end = window.previous(at, zone)
    base, thin = _read(rule, metrics, start, end, of="the base window")
    if thin:
        return Evaluation(Outcome.NO_DATA, at, stale=stale, detail=thin, current=current, base=base)
    floor = rule.min_base if rule.min_base is not None else 0.0
    if current is None or base is None or float(base) <= floor:
        detail = f"no base to compare with ({rule.compare}: {base}, min_base {floor:g})"
        return Evaluation(
            Outcome.NO_DATA, at, stale=stale, detail=detail, current=current, base=base
        )
    now, then = _exact(current), _exact(base)
    change = (then - now) / then if condition.op == "drop" else (now - then) / then
    return Evaluation(
        condition.judge(change), at, float(change), stale=stale, current=current, base=base
    )


def _read(
    rule: AlertRule, metrics: MetricSource, start: int, end: int, *, of: str = "the window"
) -> tuple[Number, str]:
    """The rule's metric over [start, end), and why the window holds too few cases to judge
    it (``min_denominator`` of a ratio, read with it; ``min_samples`` of a quantile or
    duration), or ""."""
    wanted = [Figure(rule.metric, start, end, rule.dim)]
    if rule.min_denominator is not None:
        ratio = metrics.metric(rule.metric)
        name = getattr(ratio, "denominator", rule.metric)  # validated: a ratio metric
        wanted.append(Figure(name, start, end, rule.dim))
    figure, *more = metrics.figures(wanted)
    if rule.min_denominator is not None:
        volume: Number = more[0]
        least, what = rule.min_denominator, "min_denominator"
    elif rule.min_samples is not None:
        name = f"{rule.metric} samples"
        volume = metrics.samples_between(rule.metric, start, end, dim=rule.dim)
        least, what = rule.min_samples, "min_samples"
    else:
        return figure, ""
    if volume is not None and float(volume) >= least:
        return figure, ""
    shown = "nothing" if volume is None else volume
    return figure, f"too few to judge: {name} is {shown} in {of}, under {what} {least:g}"


def _exact(value: int | float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
