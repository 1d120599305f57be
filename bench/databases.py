"""Private databases for the benchmarks.

PostgreSQL benchmarks never touch the shared ``test`` database: they work in their own
database (``bench_ledgerlens`` on the server of ``$LEDGERLENS_BENCH_PG_URL``), one schema per
store, dropped when done (generated stores are kept as a cache, see ``bench/stores.py``;
``python -m bench.ingest --clean`` drops them). SQLite stores live under
``$LEDGERLENS_BENCH_DIR`` (default /tmp/ledgerlens-bench).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

PG_URL_ENV = "LEDGERLENS_BENCH_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "bench_ledgerlens"
CACHE_DIR = Path(os.environ.get("LEDGERLENS_BENCH_DIR", "/tmp/ledgerlens-bench"))
BACKENDS = ("sqlite", "postgres")


def base_pg_url() -> str:
    return os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)


def libpq_url(url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` URL as one ``psycopg.connect`` takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_bench_database() -> None:
    with psycopg.connect(libpq_url(base_pg_url()), autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DATABASE,)
        ).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')


def drop_bench_database() -> None:
    with psycopg.connect(libpq_url(base_pg_url()), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def pg_schema_url(schema: str) -> str:
    """The SQLAlchemy URL of ``schema`` in the benchmark database (search_path set)."""
    base = make_url(base_pg_url()).set(database=BENCH_DATABASE)
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def pg_admin() -> psycopg.Connection[Any]:
    """An autocommit connection to the benchmark database."""
    ensure_bench_database()
    url = make_url(base_pg_url()).set(database=BENCH_DATABASE)
    return psycopg.connect(libpq_url(url.render_as_string(hide_password=False)), autocommit=True)


def create_pg_schema(schema: str) -> str:
    with pg_admin() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return pg_schema_url(schema)


def drop_pg_schema(schema: str) -> None:
    with pg_admin() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def sqlite_path(name: str) -> Path:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return CACHE_DIR / f"{name}.db"


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def scratch_store(backend: str, name: str) -> tuple[str, Callable[[], None]]:
    """A fresh, empty database for one store: its URL and a function that removes it."""
    if backend == "sqlite":
        path = sqlite_path(name)
        remove_sqlite(path)
        return sqlite_url(path), lambda: remove_sqlite(path)
    url = create_pg_schema(name)
    return url, lambda: drop_pg_schema(name)


def connect(url: str) -> Any:
    """A plain driver connection (sqlite3 or psycopg) to a store's database."""
    if url.startswith("sqlite"):
        return sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    return psycopg.connect(libpq_url(url), autocommit=True)
