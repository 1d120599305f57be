"""Metric declarations (config.yaml ``metrics:``), validated against the domain's events.

Every event type, field, ``where`` key and ``by`` dimension named here must exist on the
domain's current event classes, so a typo is refused at load time with its file and line,
never discovered as an empty chart.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from pydantic import Field, model_validator

from domain.events import EVENT_TYPES
from ingest.sections import NAME_PATTERN, Section

Scalar = str | int | float | bool | None
EventKind = Literal["count", "sum", "avg", "min", "max", "distinct", "quantile"]
ADDITIVE = {"count", "sum"}
NEEDS_FIELD = {"sum", "avg", "min", "max", "distinct", "quantile"}


def event_fields(event_type: str) -> set[str]:
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise ValueError(f"unknown event type {event_type!r} (known: {known})")
    return {f.name for f in dataclasses.fields(cls)}


def require_fields(event_types: list[str], names: list[str], what: str) -> None:
    for event_type in event_types:
        missing = [name for name in names if name not in event_fields(event_type)]
        if missing:
            fields = ", ".join(sorted(event_fields(event_type)))
            raise ValueError(
                f"{what} {', '.join(missing)!s} is not a field of {event_type} (fields: {fields})"
            )


class MetricBase(Section):
    name: str = Field(pattern=NAME_PATTERN)
    label: str | None = None
    unit: str = "count"  # CNY | count | percent | seconds | days ...
    description: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")


class EventMetric(MetricBase):
    """count / sum / avg / min / max / distinct / quantile over one or more event types."""

    kind: EventKind
    events: list[str] = Field(min_length=1)
    field: str | None = None
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    by: str | None = None
    q: float | None = Field(None, gt=0, lt=1)
    scale: int = Field(2, ge=0, le=6, description="decimal places kept by sums (2: fen)")

    @model_validator(mode="after")
    def _consistent(self) -> EventMetric:
        if self.kind in NEEDS_FIELD and not self.field:
            raise ValueError(f"kind {self.kind} needs `field`")
        if self.kind == "count" and self.field:
            raise ValueError("kind count takes no `field` (use `where` to filter)")
        if (self.kind == "quantile") != (self.q is not None):
            raise ValueError("`q` (0 < q < 1) goes with kind quantile, and only with it")
        names = [n for n in (self.field, self.by) if n] + list(self.where)
        require_fields(self.events, names, "field")
        return self


class RatioMetric(MetricBase):
    """numerator / denominator over the same window: always sum over sum."""

    kind: Literal["ratio"]
    numerator: str
    denominator: str
    unit: str = "percent"


class DifferenceMetric(MetricBase):
    """minuend - subtrahend over the same window (net inflow = deposits - withdrawals)."""

    kind: Literal["difference"]
    minuend: str
    subtrahend: str
    unit: str = "CNY"


class SpanEnd(Section):
    event: str
    key: str

    @model_validator(mode="after")
    def _known(self) -> SpanEnd:
        require_fields([self.event], [self.key], "key")
        return self


class DurationMetric(MetricBase):
    """Seconds from a start event to an end event with the same key; a quantile of them."""

    kind: Literal["duration"]
    start: SpanEnd
    end: SpanEnd
    q: float = Field(0.95, gt=0, lt=1)
    unit: str = "seconds"


class Delta(Section):
    event: str
    field: str | None = None  # None: each event counts 1
    sign: Literal[1, -1] = 1
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> Delta:
        require_fields([self.event], [n for n in (self.field,) if n] + list(self.where), "field")
        return self


class CumulativeMetric(MetricBase):
    """A level since the beginning of history, built from signed deltas (AUM, principal)."""

    kind: Literal["cumulative"]
    deltas: list[Delta] = Field(min_length=1)
    scale: int = Field(2, ge=0, le=6)


AnyMetric = EventMetric | RatioMetric | DifferenceMetric | DurationMetric | CumulativeMetric
Metric = Annotated[AnyMetric, Field(discriminator="kind")]
METRIC_KINDS = ("count", "sum", "avg", "min", "max", "distinct", "quantile", "ratio",
                "difference", "duration", "cumulative")  # fmt: skip


def parts(metric: AnyMetric) -> tuple[str, str] | None:
    """The two metrics a derived metric (ratio, difference) combines."""
    if isinstance(metric, RatioMetric):
        return metric.numerator, metric.denominator
    if isinstance(metric, DifferenceMetric):
        return metric.minuend, metric.subtrahend
    return None


def is_level(metric: AnyMetric) -> bool:
    return isinstance(metric, CumulativeMetric)


def check_metric_set(metrics: list[AnyMetric]) -> None:
    names = [m.name for m in metrics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"metric names must be unique: {', '.join(duplicates)}")
    by_name = {m.name: m for m in metrics}
    for metric in metrics:
        pair = parts(metric)
        if pair is None:
            continue
        targets = []
        for part in pair:
            target = by_name.get(part)
            if target is None:
                raise ValueError(f"{metric.kind} {metric.name}: unknown metric {part!r}")
            additive = isinstance(target, EventMetric) and target.kind in ADDITIVE
            if not (additive or is_level(target)):
                raise ValueError(
                    f"{metric.kind} {metric.name}: {part!r} must be a count, sum or cumulative "
                    "metric (sum over sum, or level over level)"
                )
            targets.append(target)
        if is_level(targets[0]) != is_level(targets[1]):
            raise ValueError(
                f"{metric.kind} {metric.name}: combine two window sums or two cumulative "
                "levels, not one of each"
            )
