"""One realistic history per backend (SQLite, PostgreSQL), projected by the shipped
config's `kpis` group in two runs of small batches, shared by this package's tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from domain.eventstore import EventStore
from domain.eventstore.sql import SqlEventStore
from domain.settings import DATABASE_URL_ENV
from ingest.cli import CONFIG_ENV
from ingest.metrics.definitions import CumulativeMetric, DurationMetric, EventMetric
from ingest.metrics.query import MetricsQuery, Number
from ingest.runtime import bootstrap
from ingest.settings import Settings
from tests.conftest import libpq_url
from tests.integration.metrics.history import SPLIT, Planned, append_all, build_plan
from tests.integration.metrics.oracle import Truth, load_events

SHIPPED_CONFIG = Path(__file__).resolve().parents[3] / "config.yaml"
BATCH_SIZE = 149  # small and odd: spans, late events and roll-ups cross batch boundaries


@dataclass
class World:
    """The database, the settings that projected it, and the truth about its events."""

    url: str
    settings: Settings
    config_path: Path
    store: SqlEventStore
    query: MetricsQuery
    truth: Truth
    planned: list[Planned]
    first_run: dict[tuple[str, str, datetime], Number]  # figures after the first run
    first_truth: Truth  # the truth about the events of the first run
    late: Planned  # a deposit that arrived in the second run for a minute of the first
    late_before: Number  # `deposits` over the hour ending with its minute, after run one

    @property
    def engine(self) -> Engine:
        return self.store.engine

    def counters(self) -> dict[str, int]:
        query = text(
            "SELECT name, value FROM rm_metric_counters WHERE generation = "
            "(SELECT active FROM ingest_generations WHERE group_name = 'kpis')"
        )
        with self.engine.connect() as conn:
            return {str(r[0]): int(r[1]) for r in conn.execute(query)}

    def read_types(self) -> set[str]:
        """Event types some metric reads (their late arrivals are counted)."""
        types: set[str] = set()
        for metric in self.settings.metrics:
            if isinstance(metric, EventMetric):
                types.update(metric.events)
            elif isinstance(metric, DurationMetric):
                types.update((metric.start.event, metric.end.event))
            elif isinstance(metric, CumulativeMetric):
                types.update(delta.event for delta in metric.deltas)
        return types


def shipped_document(url: str) -> dict[str, Any]:
    """The shipped config.yaml with the test database and small batches."""
    document = yaml.safe_load(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    document["database"]["url"] = url
    document["ingest"].update(batch_size=BATCH_SIZE, idle_wait_s=0.2, status_interval_s=0.2)
    return document


def project(settings: Settings) -> None:
    runtime = bootstrap(settings, only=["kpis"])
    try:
        assert runtime.run(once=True), runtime.failures
    finally:
        runtime.close()


FIRST_RUN_WINDOWS = ("1h", "today", "24h")


def first_run_times() -> list[datetime]:
    return [datetime.fromisoformat(t) for t in ("2024-03-04T03:30:00+00:00",
                                                "2024-03-05T05:59:30+00:00")]  # fmt: skip


@pytest.fixture(autouse=True)
def _settings_come_from_the_test_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment would override the URL written into each test's config file."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(CONFIG_ENV, raising=False)


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'events.db'}"
        return
    base = str(request.getfixturevalue("pg_base_url"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(base)
        given = url.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        options = f"{given} -csearch_path={schema}".strip()
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_url(base), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="package")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    document = shipped_document(database_url)
    config_path = tmp_path_factory.mktemp("config") / "config.yaml"
    config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    settings = Settings.model_validate(document)
    store = EventStore.from_url(database_url, pool_size=4)
    assert isinstance(store, SqlEventStore)
    query = MetricsQuery.from_settings(store.engine, settings)
    planned = build_plan()
    versions: dict[str, int] = {}
    try:
        append_all(store, [p for p in planned if p.arrival < SPLIT], versions)
        project(settings)
        first_truth = Truth(load_events(store.engine), settings.metrics, settings.business_timezone)
        first_run = {
            (metric.name, window, at): query.value(metric.name, window, at)
            for metric in settings.metrics
            for window in FIRST_RUN_WINDOWS
            for at in first_run_times()
        }
        late = next(
            p for p in planned if p.late and p.arrival >= SPLIT and p.occurred < SPLIT
            and p.event.event_type() == "FundsDeposited"
        )  # fmt: skip
        late_before = query.value("deposits", "1h", late.occurred)
        append_all(store, [p for p in planned if p.arrival >= SPLIT], versions)
        project(settings)
        truth = Truth(load_events(store.engine), settings.metrics, settings.business_timezone)
        yield World(
            database_url, settings, config_path, store, query, truth, planned, first_run,
            first_truth, late, late_before,
        )  # fmt: skip
    finally:
        store.close()
