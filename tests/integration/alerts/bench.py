"""A test bench for alerts: a real read-model database and event store, the real alert
service on a manual clock, and metric values scripted over time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from domain.eventstore import START, Checkpoint
from domain.eventstore.sql import SqlEventStore
from ingest.alerts import storage
from ingest.alerts import tables as st
from ingest.alerts.loop import AlertService
from ingest.alerts.tick import TickReport
from ingest.checkpoints import advance_checkpoint, ensure_checkpoint
from ingest.metrics import storage as metric_tables
from ingest.metrics.query import Figure, MetricsQuery, Number
from ingest.metrics.timegrid import to_epoch
from ingest.readmodel import create_read_model
from ingest.settings import Settings
from tests.clock import ManualClock

METRICS = [
    {"name": "failed", "kind": "count", "events": ["WithdrawalFailed"]},
    {"name": "requested", "kind": "count", "events": ["WithdrawalRequested"]},
    {"name": "failure_rate", "kind": "ratio", "numerator": "failed", "denominator": "requested"},
    {"name": "deposit_count", "kind": "count", "events": ["FundsDeposited"], "by": "channel"},
    {"name": "deposits", "kind": "sum", "events": ["FundsDeposited"], "field": "amount"},
]
SPIKE = {
    "name": "spike",
    "metric": "failure_rate",
    "window": "15m",
    "condition": "> 10%",
    "recovery": "5%",
    "severity": "critical",
    "labels": {"team": "payments"},
    "summary": "提现失败率 {value:.1%} > {threshold:.0%}",
}


def settings_with(rules: list[dict[str, Any]], **notify: Any) -> Settings:
    notify.setdefault("sinks", [{"kind": "log"}])
    return Settings.model_validate(
        {"metrics": METRICS, "alerts": {"rules": rules, "notify": notify}}
    )


Script = dict[str, list[tuple[int, Any]]]  # metric -> (since, what it reads from then on)


class ScriptedMetrics(MetricsQuery):
    """The real query API whose figures come from a script: ``set(metric, value, since)``
    makes the metric read ``value`` in every window ending after ``since``."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine, settings.metrics, settings.business_timezone)
        self.steps: Script = {}  # figures
        self.samples: Script = {}  # sample counts
        self.failing: str | None = None

    def set(self, metric: str, value: Number, since: datetime) -> None:
        _script(self.steps, self.metric(metric).name, value, since)

    def set_samples(self, metric: str, count: int, since: datetime) -> None:
        """``samples_between(metric, ...)`` reads ``count`` in every window ending after
        ``since``."""
        _script(self.samples, self.metric(metric).name, count, since)

    def samples_between(
        self, metric: str, start: int, end: int, *, dim: str | None = None
    ) -> int | None:
        return _scripted(self.samples, self.metric(metric).name, end)

    def figures(self, requests: Iterable[Figure]) -> list[Number]:
        wanted = [Figure(*request) for request in requests]
        for request in wanted:
            self.metric(request.metric)
        if self.failing is not None:
            raise ConnectionError(self.failing)
        return [_scripted(self.steps, request.metric, request.end) for request in wanted]


def _script(steps: Script, metric: str, value: Any, since: datetime) -> None:
    steps.setdefault(metric, []).append((to_epoch(since), value))
    steps[metric].sort(key=lambda step: step[0])


def _scripted(steps: Script, metric: str, end: int) -> Any:
    """The last value set since before ``end`` (None if none)."""
    found = None
    for since, value in steps.get(metric, []):
        if since < end:
            found = value
    return found


class Bench:
    def __init__(
        self,
        store: SqlEventStore,
        settings: Settings,
        clock: ManualClock,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.engine = store.engine
        self.clock = clock
        create_read_model(self.engine, metric_tables.metadata, st.metadata)
        with self.engine.begin() as conn:  # the metrics group has read something
            if ensure_checkpoint(conn, "kpis") == START:
                advance_checkpoint(conn, "kpis", 0, START, Checkpoint(1, 1))
        self.metrics = ScriptedMetrics(self.engine, settings)
        self.environ = environ or {}
        self.service = self.restart(settings)

    def restart(self, settings: Settings) -> AlertService:
        """A new service on the same database, as after a restart of the ingest."""
        self.service = AlertService(
            settings,
            self.engine,
            self.store,
            clock=self.clock,
            metrics=lambda _: self.metrics,
            environ=self.environ,
        )
        return self.service

    def set(self, metric: str, value: Number) -> None:
        self.metrics.set(metric, value, self.clock() - timedelta(seconds=1))

    def tick(self, minutes: float = 1) -> TickReport:
        self.clock.advance(timedelta(minutes=minutes))
        return self.service.tick()

    def state(self, rule: str = "spike") -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(st.states).where(st.states.c.rule == rule)).mappings()
            return dict(row.one())

    def transitions(self, rule: str = "spike") -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            return [(r["from_state"], r["to_state"]) for r in storage.read_history(conn, rule)]

    def notifications(self) -> list[dict[str, Any]]:
        """Outbox messages in order: status and each alert's (rule, status)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(st.outbox).order_by(st.outbox.c.id)).mappings().all()
        return [dict(r["payload"], id=r["id"]) for r in rows]

    def deliveries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            query = select(st.deliveries).order_by(st.deliveries.c.outbox_id, st.deliveries.c.sink)
            return [dict(r) for r in conn.execute(query).mappings()]


def told(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [(alert["rule"], alert["status"]) for alert in message["alerts"]]
