"""Validated settings of config.yaml (pydantic): defaults -> file -> environment."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from domain.settings import DEFAULT_DATABASE_URL
from ingest.alerts.section import AlertSettings, check_alert_rules
from ingest.metrics.definitions import Metric, check_metric_set
from ingest.metrics.validation import located
from ingest.sections import NAME_PATTERN, Section

ErrorPolicy = Literal["retry", "dead_letter", "skip"]
APPLICATION_NAME = "ledgerlens-ingest"  # how the ingest's sessions show in pg_stat_activity


class DatabaseSettings(Section):
    url: str = DEFAULT_DATABASE_URL
    pool_size: int = Field(8, ge=2, le=100)
    application_name: str = Field(APPLICATION_NAME, min_length=1, max_length=63)

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql")):
            raise ValueError(
                f"unsupported URL {url!r}: use sqlite:///path or postgresql+psycopg://"
            )
        return url


class ReadModelSettings(Section):
    url: str | None = None  # None: the read model lives beside the events
    pool_size: int = Field(8, ge=2, le=100)


class GroupSettings(Section):
    name: str = Field(pattern=NAME_PATTERN)
    handler: str = Field(description="'builtin:NAME' or 'package.module:Class'")
    error_policy: ErrorPolicy = "retry"
    critical: bool = False
    batch_size: int | None = Field(None, ge=1, le=100_000)
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("handler")
    @classmethod
    def _handler_reference(cls, handler: str) -> str:
        if handler.count(":") != 1 or not all(handler.split(":")):
            raise ValueError(f"handler {handler!r} must be 'builtin:NAME' or 'module.path:Class'")
        return handler


class IngestSettings(Section):
    batch_size: int = Field(10_000, ge=1, le=100_000)
    idle_wait_s: float = Field(1.0, gt=0, le=60)
    retry_initial_s: float = Field(1.0, gt=0)
    retry_max_s: float = Field(60.0, gt=0)
    status_interval_s: float = Field(1.0, gt=0)


def default_groups() -> list[GroupSettings]:
    return [GroupSettings(name="kpis", handler="builtin:kpis", error_policy="retry", critical=True)]


# --- dashboard: read by dashboard/ only (ingest ignores it) ---------------------------------
DEFAULT_OVERVIEW = ("deposits", "net_inflow", "investment_volume", "new_users",
                    "loans_disbursed", "approval_rate", "aum", "outstanding_principal")  # fmt: skip


class DashboardUser(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    role: Literal["business", "ops"]
    password_hash: str

    @field_validator("password_hash")
    @classmethod
    def _bcrypt(cls, value: str) -> str:
        if not re.fullmatch(r"\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}", value):
            raise ValueError("not a bcrypt hash: make one with `python -m dashboard.auth hash`")
        return value


class DashboardAuth(Section):
    """Login is required when this section is present (or users come from the environment)."""

    users: list[DashboardUser] = Field(default_factory=list)
    users_env: str = "LEDGERLENS_DASHBOARD_USERS"  # "name:role:bcrypt-hash", comma-separated


class DashboardSettings(Section):
    overview: list[str] = Field(default_factory=lambda: list(DEFAULT_OVERVIEW))
    refresh_s: int = Field(30, ge=5, le=3600)
    amount_unit: Literal["yuan", "wan", "yi", "auto"] = "yuan"  # 万 / 亿 for large amounts
    auth: DashboardAuth | None = None


class Settings(Section):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    read_model: ReadModelSettings = Field(default_factory=ReadModelSettings)
    business_timezone: str = "Asia/Shanghai"
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    groups: list[GroupSettings] = Field(default_factory=default_groups)
    metrics: list[Metric] = Field(default_factory=list)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {zone!r} (use an IANA name like Asia/Shanghai)"
            ) from exc
        return zone

    @model_validator(mode="after")
    def _unique_group_names(self) -> Settings:
        names = [group.name for group in self.groups]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"processing group names must be unique: {', '.join(duplicates)}")
        check_metric_set(self.metrics)
        declared = {metric.name for metric in self.metrics}
        if "overview" in self.dashboard.model_fields_set:  # the default list may name absentees
            for index, name in enumerate(self.dashboard.overview):
                if name not in declared:
                    raise located(("dashboard", "overview", index), f"unknown metric {name!r}")
        return self

    @model_validator(mode="after")
    def _alert_rules_watch_declared_metrics(self) -> Settings:
        check_alert_rules(self.alerts, self.metrics)
        return self

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        known = ", ".join(m.name for m in self.metrics) or "none declared"
        raise KeyError(f"unknown metric {name!r} (metrics: {known})")

    @property
    def read_model_url(self) -> str:
        return self.read_model.url or self.database.url

    def group(self, name: str) -> GroupSettings:
        for group in self.groups:
            if group.name == name:
                return group
        known = ", ".join(g.name for g in self.groups)
        raise KeyError(f"no processing group {name!r} in the config (groups: {known})")
