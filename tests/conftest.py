"""Shared fixtures: a database URL per backend, an event store on each, and a manual clock.

PostgreSQL tests need ``LEDGERLENS_TEST_PG_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each test gets a fresh private schema
there, dropped afterwards. Without the URL, or with the server down, they skip, except when
``CI=true``: then they fail, so CI can never pass by skipping them. Tests that use PostgreSQL
get the ``postgres`` marker automatically.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from sqlalchemy.engine import make_url

from domain.eventstore import EventStore
from tests.clock import ManualClock

PG_URL_ENV = "LEDGERLENS_TEST_PG_URL"
STORE_BACKENDS = ["sqlite", "postgres"]  # store_url's default params; "memory" via indirect


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def postgres_unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason} (CI=true makes the PostgreSQL tests mandatory)", pytrace=False)
    pytest.skip(reason)


def libpq_url(url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` URL as a URL that ``psycopg.connect`` takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("store_url") if callspec is not None else None
        if backend == "postgres" or "pg_base_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    """The PostgreSQL URL from the environment, checked once per session."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        postgres_unavailable(
            f"{PG_URL_ENV} is not set; PostgreSQL tests need a URL like "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        postgres_unavailable(f"PostgreSQL at {shown} cannot be reached: {exc}".strip())
    return url


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A URL whose sessions use a fresh, empty schema ``t_<random>``, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = libpq_url(pg_base_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = make_url(pg_base_url)
    given = base.query.get("options", "")
    options = " ".join([*([given] if isinstance(given, str) else given), f"-csearch_path={schema}"])
    try:
        yield base.update_query_dict({"options": options.strip()}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_connect(pg_url: str) -> Iterator[Callable[[], psycopg.Connection]]:
    """Opens plain autocommit psycopg connections to the test's schema; closes them after."""
    opened: list[psycopg.Connection] = []

    def connect() -> psycopg.Connection:
        conn = psycopg.connect(libpq_url(pg_url), autocommit=True)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str:
    """A URL per backend. Add the in-memory fake with
    ``@pytest.mark.parametrize("store_url", ["memory", "sqlite", "postgres"], indirect=True)``."""
    backend = request.param
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    raise ValueError(f"unknown store backend {backend!r}")


@pytest.fixture
def store(store_url: str) -> Iterator[EventStore]:
    opened = EventStore.from_url(store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
