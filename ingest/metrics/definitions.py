"""Metric declarations (config.yaml ``metrics:``), validated against the domain's events.

Every event type, field, ``where`` key and ``by`` dimension named here must exist on the
domain's current event classes, so a typo is refused at load time with its file and line,
never discovered as an empty chart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    SerializationInfo,
    model_validator,
)

from ingest.metrics.validation import check_event, located, require_field
from ingest.sections import NAME_PATTERN, Section

Scalar = str | int | float | bool | None
EventKind = Literal["count", "sum", "avg", "min", "max", "distinct", "quantile"]
ADDITIVE = {"count", "sum"}
NEEDS_FIELD = {"sum", "avg", "min", "max", "distinct", "quantile"}


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
        for index, event_type in enumerate(self.events):
            check_event(event_type, ("events", index))
        if self.kind in NEEDS_FIELD and not self.field:
            raise located(("field",), f"kind {self.kind} needs `field`")
        if self.kind == "count" and self.field:
            raise located(("field",), "kind count takes no `field` (use `where` to filter)")
        if (self.kind == "quantile") != (self.q is not None):
            raise located(("q",), "`q` (0 < q < 1) goes with kind quantile, and only with it")
        if self.field:
            require_field(self.events, self.field, ("field",))
        if self.by:
            require_field(self.events, self.by, ("by",), "`by` dimension")
        for name in self.where:
            require_field(self.events, name, ("where", name), "`where` key")
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
        check_event(self.event, ("event",))
        require_field([self.event], self.key, ("key",), "key")
        return self


class DurationMetric(MetricBase):
    """Seconds from a start event to an end event with the same key; a quantile of them."""

    kind: Literal["duration"]
    start: SpanEnd
    end: SpanEnd
    cancel: list[SpanEnd] = Field(
        default_factory=list,
        description="events that close a span without a duration (a failed withdrawal)",
    )
    q: float = Field(0.95, gt=0, lt=1)
    unit: str = "seconds"


class Delta(Section):
    event: str
    field: str | None = None  # None: each event counts 1
    sign: Literal[1, -1] = 1
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> Delta:
        check_event(self.event, ("event",))
        if self.field:
            require_field([self.event], self.field, ("field",))
        for name in self.where:
            require_field([self.event], name, ("where", name), "`where` key")
        return self


class CumulativeMetric(MetricBase):
    """A level since the beginning of history, built from signed deltas (AUM, principal)."""

    kind: Literal["cumulative"]
    deltas: list[Delta] = Field(min_length=1)
    scale: int = Field(2, ge=0, le=6)


AnyMetric = EventMetric | RatioMetric | DifferenceMetric | DurationMetric | CumulativeMetric
METRIC_KINDS = ("count", "sum", "avg", "min", "max", "distinct", "quantile", "ratio",
                "difference", "duration", "cumulative")  # fmt: skip
KIND_CLASSES: dict[str, type[MetricBase]] = {
    **dict.fromkeys(get_args(EventKind), EventMetric),
    "ratio": RatioMetric,
    "difference": DifferenceMetric,
    "duration": DurationMetric,
    "cumulative": CumulativeMetric,
}


def _by_kind(value: Any) -> AnyMetric:
    """Validate a declaration as its kind's class. (A discriminated union would put the
    kind into every error's location: ``metrics.0.sum.field`` instead of ``metrics.0.field``.)"""
    if isinstance(value, MetricBase):
        return value  # type: ignore[return-value]
    if not isinstance(value, dict):
        raise located((), "a metric is a mapping with at least `name` and `kind`", value)
    kind = value.get("kind")
    cls = KIND_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        problem = "missing" if kind is None else f"unknown kind {kind!r}"
        raise located(("kind",), f"{problem} (kinds: {', '.join(METRIC_KINDS)})", kind)
    return cls.model_validate(value)  # type: ignore[return-value]


def _dump(metric: MetricBase, info: SerializationInfo) -> dict[str, Any]:
    return metric.model_dump(mode=info.mode)


Metric = Annotated[AnyMetric, PlainValidator(_by_kind), PlainSerializer(_dump)]


def parts(metric: AnyMetric) -> tuple[str, str] | None:
    """The two metrics a derived metric (ratio, difference) combines."""
    if isinstance(metric, RatioMetric):
        return metric.numerator, metric.denominator
    if isinstance(metric, DifferenceMetric):
        return metric.minuend, metric.subtrahend
    return None


def is_level(metric: AnyMetric) -> bool:
    return isinstance(metric, CumulativeMetric)


def is_sampled(metric: AnyMetric) -> bool:
    """A quantile or duration: its figure is read from a sketch of individual values."""
    return isinstance(metric, DurationMetric) or getattr(metric, "kind", "") == "quantile"


PART_KEYS = {"ratio": ("numerator", "denominator"), "difference": ("minuend", "subtrahend")}


def check_metric_set(metrics: list[AnyMetric]) -> None:
    """Names unique, derived metrics combining known and compatible metrics; errors are
    located at ``metrics.<index>.<key>``."""
    seen: set[str] = set()
    for index, metric in enumerate(metrics):
        if metric.name in seen:
            raise located(("metrics", index, "name"), f"metric names must be unique: {metric.name}")
        seen.add(metric.name)
    by_name = {m.name: m for m in metrics}
    for index, metric in enumerate(metrics):
        pair = parts(metric)
        if pair is None:
            continue
        targets = []
        for key, part in zip(PART_KEYS[metric.kind], pair, strict=True):
            where = ("metrics", index, key)
            target = by_name.get(part)
            if target is None:
                raise located(where, f"{metric.kind} {metric.name}: unknown metric {part!r}")
            additive = isinstance(target, EventMetric) and target.kind in ADDITIVE
            if not (additive or is_level(target)):
                raise located(
                    where,
                    f"{metric.kind} {metric.name}: {part!r} must be a count, sum or cumulative "
                    "metric (sum over sum, or level over level)",
                )
            targets.append(target)
        if is_level(targets[0]) != is_level(targets[1]):
            raise located(
                ("metrics", index, PART_KEYS[metric.kind][1]),
                f"{metric.kind} {metric.name}: combine two window sums or two cumulative "
                "levels, not one of each",
            )
