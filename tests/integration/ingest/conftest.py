"""Fixtures of the ingest integration tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from domain.eventstore import EventStore
from domain.eventstore.sql import SqlEventStore
from domain.settings import DATABASE_URL_ENV
from ingest.cli import CONFIG_ENV
from tests.conftest import in_ci, libpq_url
from tests.integration.ingest.handlers import clear_refusals
from tests.integration.pg_server import PrivateServer, binaries_missing, private_server


@pytest.fixture(autouse=True)
def _settings_come_from_the_test_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment would override the URL each test writes into its config file."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(CONFIG_ENV, raising=False)


@pytest.fixture(autouse=True)
def _fresh_refusal_log() -> None:
    """The test handler logs its refusals per group name in this process: start empty."""
    clear_refusals()


@pytest.fixture
def engine(store: EventStore) -> Engine:
    """The test store's engine, for reading the events and the read model directly."""
    assert isinstance(store, SqlEventStore)
    return store.engine


@pytest.fixture
def other_database_url(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A second, empty database on the same backend (a file, or a fresh PostgreSQL schema)."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    base = str(request.getfixturevalue("pg_base_url"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        given = make_url(base).query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        options = f"{given} -csearch_path={schema}".strip()
        yield (
            make_url(base)
            .update_query_dict({"options": options})
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(libpq_url(base), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def private_pg() -> Iterator[PrivateServer]:
    """A PostgreSQL server of this test's own, free to restart (needs the server binaries)."""
    reason = binaries_missing()
    if reason is not None:
        if in_ci():
            pytest.fail(f"{reason} (CI=true makes the PostgreSQL tests mandatory)", pytrace=False)
        pytest.skip(reason)
    with private_server() as server:
        yield server
