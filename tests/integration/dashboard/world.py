"""A seeded history for the dashboard's tests: the simulator's backfill up to a fixed
moment, projected by the real ingest runtime, with its config file on disk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from domain.clock import utc_now
from domain.eventstore import EventStore
from domain.eventstore.engine import WRITE
from domain.eventstore.sql import SqlEventStore
from domain.simulator.scenario import Scenario, parse_incident
from domain.simulator.session import Simulation
from ingest.alerts.loop import AlertService
from ingest.alerts.silences import add_silence
from ingest.config_loader import load_settings
from ingest.metrics.query import MetricsQuery
from ingest.runtime import bootstrap
from ingest.settings import Settings
from tests.integration.dashboard.handlers import HANDLER

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2024, 6, 30, 6, 0, tzinfo=UTC)  # Sunday 14:00 in Shanghai
HISTORY = timedelta(hours=30)  # more than a day: "same time yesterday" has figures
ALERT_HISTORY = timedelta(hours=8)  # rules evaluated every 5 minutes over the last 8 hours
TEST_RULES = [  # beside the shipped ones: one firing and one pending rule at NOW
    {"name": "aum_above_one_yuan", "metric": "aum", "window": "1h", "condition": "> 1",
     "severity": "critical"},
    {"name": "approval_rate_high", "metric": "approval_rate", "window": "1h",
     "condition": "> 0.01", "for": "1d"},
]  # fmt: skip


@dataclass
class World:
    url: str
    config: Path
    settings: Settings
    store: SqlEventStore
    query: MetricsQuery

    @property
    def engine(self) -> Engine:
        return self.store.engine


def config_document(url: str, **dashboard: Any) -> dict[str, Any]:
    """The shipped config.yaml on ``url``, plus a dead-lettering group and ``dashboard``."""
    document = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    document["database"]["url"] = url
    document["ingest"].update(idle_wait_s=0.2, status_interval_s=0.2)
    document["groups"].append(
        {"name": "filing", "handler": HANDLER, "error_policy": "dead_letter", "critical": False}
    )
    for rule in document["alerts"]["rules"]:  # sized for the demo's 2 events/s; here 0.15
        if "min_denominator" in rule:
            rule["min_denominator"] = 5
    document["alerts"]["rules"] += TEST_RULES
    if dashboard:
        document["dashboard"] = dashboard
    return document


def write_config(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def simulate(url: str, *, now: datetime = NOW, history: timedelta = HISTORY, seed: int = 11,
             backfill_rate: float = 0.15) -> None:  # fmt: skip
    """History ending at ``now``; loan months of 10 minutes so loans fall overdue."""
    scenario = Scenario(
        seed=seed,
        backfill_rate=backfill_rate,
        installment_every=timedelta(minutes=10),
        incidents=(parse_incident("payment-outage@-4h:1h"),),
    )
    store = EventStore.from_url(url)
    try:
        simulation = Simulation(store, scenario, now=now, progress=False, out=lambda _: None)
        simulation.run(backfill=history, duration=timedelta(0))
    finally:
        store.close()


def project(settings: Settings) -> None:
    runtime = bootstrap(settings)
    try:
        runtime.run(once=True)
    finally:
        runtime.close()
    if runtime.failures:
        raise RuntimeError(f"ingest failed: {runtime.failures}")


def build(directory: Path, **dashboard: Any) -> World:
    url = f"sqlite:///{directory / 'events.db'}"
    config = write_config(directory / "config.yaml", config_document(url, **dashboard))
    simulate(url)
    settings = load_settings(config)
    project(settings)
    store = SqlEventStore.open(url)
    evaluate_alerts(settings, store)
    query = MetricsQuery(store.engine, settings.metrics, settings.business_timezone)
    return World(url, config, settings, store, query)


def evaluate_alerts(settings: Settings, store: SqlEventStore) -> None:
    """Alert rounds every 5 minutes up to NOW, as a running ingest would have made them,
    and a silence running now."""
    moment = [NOW - ALERT_HISTORY]
    service = AlertService(settings, store.engine, store, clock=lambda: moment[0], environ={})
    while moment[0] <= NOW:
        service.tick()
        moment[0] += timedelta(minutes=5)
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            add_silence(conn, "deposits_stopped", {"team": "payments"}, timedelta(hours=2),
                        "payment channel maintenance", utc_now(), "tester")  # fmt: skip
