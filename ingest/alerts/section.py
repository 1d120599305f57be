"""The ``alerts:`` section of config.yaml: evaluation, notification sinks and rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ingest.alerts.rules import AlertRule, Duration, Severity
from ingest.metrics.definitions import AnyMetric, EventMetric, RatioMetric, is_sampled, parts
from ingest.metrics.validation import located
from ingest.sections import NAME_PATTERN, Section

ENV_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
SinkKind = Literal["log", "webhook", "apprise"]


class SinkSettings(Section):
    """Where notifications go. URLs and tokens come from the environment variable
    ``url_env`` names (apprise: one or more URLs separated by spaces or commas)."""

    name: str | None = Field(None, pattern=NAME_PATTERN)
    kind: SinkKind
    url_env: str | None = Field(None, pattern=ENV_PATTERN)
    timeout_s: float = Field(5.0, gt=0, le=120)
    retries: int = Field(3, ge=0, le=100, description="attempts after the first one")
    backoff_s: float = Field(2.0, gt=0, le=3600, description="first retry delay, doubling")
    min_severity: Severity = "info"

    @model_validator(mode="after")
    def _url(self) -> SinkSettings:
        if self.kind == "log" and self.url_env is not None:
            raise located(("url_env",), "the log sink takes no url_env")
        if self.kind != "log" and self.url_env is None:
            raise located(
                ("url_env",),
                f"a {self.kind} sink needs url_env: the name of the environment variable "
                "holding its URL (never the URL itself: config.yaml is committed)",
            )
        return self

    @property
    def label(self) -> str:
        return self.name or self.kind


def default_sinks() -> list[SinkSettings]:
    return [SinkSettings(kind="log")]


class NotifySettings(Section):
    group_by: list[str] = Field(default_factory=lambda: ["alertname"])
    repeat_interval: Duration = 4 * 3600
    sinks: list[SinkSettings] = Field(default_factory=default_sinks)

    @field_validator("repeat_interval")
    @classmethod
    def _positive(cls, seconds: int) -> int:
        if seconds <= 0:
            raise ValueError("repeat_interval must be a positive duration (e.g. 4h)")
        return seconds

    @model_validator(mode="after")
    def _unique_sinks(self) -> NotifySettings:
        seen: set[str] = set()
        for index, sink in enumerate(self.sinks):
            if sink.label in seen:
                raise located(
                    ("sinks", index, "name"),
                    f"two sinks are named {sink.label!r}: give each a distinct name",
                )
            seen.add(sink.label)
        return self


class AlertSettings(Section):
    enabled: bool = True
    evaluation_interval_s: float = Field(10.0, gt=0, le=3600)
    max_ingest_lag_s: float = Field(
        60.0, gt=0, description="older unprocessed events make evaluations stale"
    )
    notify: NotifySettings = Field(default_factory=NotifySettings)
    rules: list[AlertRule] = Field(default_factory=list)

    def rule(self, name: str) -> AlertRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        known = ", ".join(r.name for r in self.rules) or "none declared"
        raise KeyError(f"no alert rule {name!r} (rules: {known})")


def check_alert_rules(alerts: AlertSettings, metrics: Sequence[AnyMetric]) -> None:
    """Rule names unique; every rule names a declared metric, and a `dim` only of a metric
    split by a dimension. Errors are located at ``alerts.rules.<index>.<key>``."""
    by_name = {metric.name: metric for metric in metrics}
    seen: set[str] = set()
    for index, rule in enumerate(alerts.rules):
        where = ("alerts", "rules", index)
        if rule.name in seen:
            raise located((*where, "name"), f"alert rule names must be unique: {rule.name}")
        seen.add(rule.name)
        metric = by_name.get(rule.metric)
        if metric is None:
            known = ", ".join(sorted(by_name)) or "none declared"
            raise located((*where, "metric"), f"unknown metric {rule.metric!r} (metrics: {known})")
        if rule.dim is not None and not _has_dimension(metric, by_name):
            raise located(
                (*where, "dim"), f"metric {rule.metric!r} has no `by` dimension, so no dim to pick"
            )
        if rule.min_denominator is not None and not isinstance(metric, RatioMetric):
            raise located(
                (*where, "min_denominator"),
                f"`min_denominator` goes with a rule on a ratio metric; {rule.metric!r} is "
                f"a {metric.kind} metric",
            )
        if rule.min_samples is not None and not is_sampled(metric):
            raise located(
                (*where, "min_samples"),
                f"`min_samples` goes with a rule on a quantile or duration metric; "
                f"{rule.metric!r} is a {metric.kind} metric",
            )


def _has_dimension(metric: AnyMetric, by_name: dict[str, AnyMetric]) -> bool:
    pair = parts(metric)
    if pair is None:
        return isinstance(metric, EventMetric) and metric.by is not None
    parts_by = [getattr(by_name.get(p), "by", None) for p in pair]
    return parts_by[0] is not None and parts_by[0] == parts_by[1]
