"""One alert rule of config.yaml ``alerts.rules`` (pydantic): what to watch and when to page."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ingest.alerts.conditions import Condition, ConditionError, parse_condition
from ingest.alerts.hours import duration_seconds, parse_hours
from ingest.alerts.templates import check_template
from ingest.metrics.validation import located
from ingest.metrics.windows import Window, WindowError
from ingest.sections import NAME_PATTERN, Section

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
NoDataPolicy = Literal["ok", "alerting", "keep_last"]
Compare = Literal["same_time_yesterday", "previous_period"]
Duration = Annotated[int, BeforeValidator(duration_seconds)]
Threshold = float | str | list[float | str] | None
RESERVED_LABELS = ("alertname", "severity", "metric", "dim")
LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AlertRule(Section):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=NAME_PATTERN)
    metric: str
    dim: str | None = Field(None, min_length=1, description="one value of the metric's `by`")
    window: str
    condition: str
    threshold: Threshold = None
    recovery: Threshold = None
    compare: Compare | None = None
    min_base: float | None = Field(None, ge=0, description="a smaller base is 'no data'")
    min_denominator: float | None = Field(
        None, gt=0, description="ratio metrics: a smaller denominator in a window is 'no data'"
    )
    min_samples: int | None = Field(
        None, gt=0, description="quantile/duration metrics: fewer values in a window: 'no data'"
    )
    for_: Duration = Field(0, alias="for")
    keep_firing_for: Duration = 0
    severity: Severity = "warning"
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str | None = None
    active_hours: str | None = None
    no_data: NoDataPolicy = "ok"

    @field_validator("window")
    @classmethod
    def _known_window(cls, window: str) -> str:
        try:
            Window(window)
        except WindowError as exc:
            raise ValueError(str(exc)) from None
        return window

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, spec: str | None) -> str | None:
        if spec is not None:
            parse_hours(spec)
        return spec

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key in labels:
            if key in RESERVED_LABELS:
                fixed = ", ".join(RESERVED_LABELS)
                raise ValueError(f"label {key!r} is set by LedgerLens ({fixed})")
            if not LABEL.match(key):
                raise ValueError(f"label name {key!r} must be letters, digits and _")
        return labels

    @model_validator(mode="after")
    def _consistent(self) -> AlertRule:
        try:
            condition = self.parsed()
        except ConditionError as exc:
            raise located((exc.key,), str(exc), getattr(self, exc.key)) from None
        if condition.is_change and self.compare is None:
            raise located(
                ("compare",),
                f"{condition.op} needs `compare`: same_time_yesterday or previous_period",
            )
        if not condition.is_change and self.compare is not None:
            raise located(("compare",), "`compare` goes with a drop or rise condition only")
        if self.min_base is not None and not condition.is_change:
            raise located(("min_base",), "`min_base` goes with a drop or rise condition only")
        if self.summary is not None:
            sample = self.context(1.0, current=1.0, base=1.0 if condition.is_change else None)
            try:
                check_template(self.summary, sample)
            except ValueError as exc:
                raise located(("summary",), str(exc), self.summary) from None
        return self

    def parsed(self) -> Condition:
        return parse_condition(self.condition, self.threshold, self.recovery)

    @property
    def all_labels(self) -> dict[str, str]:
        """The labels an alert of this rule carries: fixed ones first, then the rule's."""
        fixed = {"alertname": self.name, "severity": self.severity, "metric": self.metric}
        if self.dim is not None:
            fixed["dim"] = self.dim
        return {**fixed, **self.labels}

    def context(self, value: Any, *, current: Any = None, base: Any = None) -> dict[str, Any]:
        """The names a summary template may use."""
        condition = self.parsed()
        return {
            "value": value,
            "threshold": condition.threshold,
            "recovery": condition.recovery,
            "metric": self.metric,
            "window": self.window,
            "labels": self.all_labels,
            "rule": self.name,
            "severity": self.severity,
            "current": current,
            "base": base,
            "dim": self.dim,
            "condition": condition.describe(),
        }

    def identity(self) -> str:
        """What decides the series a rule watches; a change here restarts its state."""
        condition = self.parsed()
        return "|".join(
            str(part) for part in (self.metric, self.dim, self.window, condition.op, self.compare)
        )
