"""Long-lived resources, one per server process: the settings, the read-only engines and
the event store (``st.cache_resource``), keyed by the config file and the database URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine

from domain.eventstore.engine import make_engine
from domain.eventstore.sql import SqlEventStore
from ingest.cli import CONFIG_ENV
from ingest.config_loader import load_settings
from ingest.metrics.query import MetricsQuery
from ingest.settings import Settings

APPLICATION_NAME = "ledgerlens-dashboard"  # how its sessions show in pg_stat_activity
POOL_SIZE = 4


@dataclass(frozen=True)
class Context:
    config: str  # the config file's path: the key of every cached loader
    settings: Settings
    engine: Engine  # the read model, read-only
    store: SqlEventStore  # the events, read-only
    query: MetricsQuery
    kpi_group: str  # the group whose generation the metrics and event counts are read at


def config_path() -> str:
    return str(Path(os.environ.get(CONFIG_ENV, "config.yaml")).resolve())


def context(config: str | None = None) -> Context:
    path = config or config_path()
    return _context(path, Path(path).stat().st_mtime_ns)  # an edited config is read again


@st.cache_resource(max_entries=4, show_spinner=False)
def _context(path: str, mtime_ns: int) -> Context:  # mtime_ns: part of the cache key
    settings = load_settings(Path(path))
    engine = read_only_engine(settings.read_model_url)
    events = engine if settings.database.url == settings.read_model_url else None
    store = SqlEventStore(events or read_only_engine(settings.database.url))
    group = next((g.name for g in settings.groups if g.handler == "builtin:kpis"), "kpis")
    query = MetricsQuery(engine, settings.metrics, settings.business_timezone, group=group)
    return Context(path, settings, engine, store, query, group)


@st.cache_resource(show_spinner=False)
def read_only_engine(url: str) -> Engine:
    """SQLite opened with ``mode=ro``; PostgreSQL sessions with default_transaction_read_only."""
    return make_engine(url, pool_size=POOL_SIZE, application_name=APPLICATION_NAME, read_only=True)
