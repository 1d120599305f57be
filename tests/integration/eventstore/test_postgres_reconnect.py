"""PostgreSQL: pooled connections that died (a restart, a killed backend) are replaced.

Checkouts ping only connections that sat idle in the pool (``ping_after_idle``); one that
died while in recent use fails its next statement once, invalidating the pool, and the
next call reconnects (domain/eventstore/engine.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from domain.eventstore.engine import make_engine
from domain.eventstore.schema import create_schema
from domain.eventstore.sql import SqlEventStore
from tests.integration.eventstore.helpers import events, settle

Connect = Callable[[], psycopg.Connection]


@contextmanager
def open_store(pg_url: str, ping_after_idle: float) -> Iterator[tuple[SqlEventStore, str]]:
    application = f"ll_reconnect_{uuid.uuid4().hex[:10]}"
    engine = make_engine(pg_url, application_name=application, ping_after_idle=ping_after_idle)
    create_schema(engine)
    store = SqlEventStore(engine)
    try:
        yield store, application
    finally:
        store.close()


def kill_backends(admin: psycopg.Connection, application: str) -> int:
    row = admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        [application],
    ).fetchone()
    alive = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    deadline = time.monotonic() + 10
    while admin.execute(alive, [application]).fetchone() != (0,) and time.monotonic() < deadline:
        time.sleep(0.01)  # terminating is asynchronous: wait until the backends are gone
    return int(row[0]) if row else 0


def test_an_idle_connection_that_died_is_replaced_at_checkout(pg_url: str, pg_connect: Connect):
    with open_store(pg_url, ping_after_idle=0.05) as (store, application):
        store.append("wallet-U1", 0, events(1))
        assert kill_backends(pg_connect(), application) >= 1
        time.sleep(0.1)  # idle long enough to be pinged

        store.append("wallet-U1", 1, events(1, start=1))  # no error reaches the caller
        assert [e.version for e in store.load_stream("wallet-U1")] == [1, 2]
        assert store.head().position >= 2


def test_a_connection_that_died_in_use_fails_once_then_the_pool_reconnects(
    pg_url: str, pg_connect: Connect
):
    with open_store(pg_url, ping_after_idle=60.0) as (store, application):
        store.append("wallet-U1", 0, events(1))
        assert kill_backends(pg_connect(), application) >= 1

        with pytest.raises(OperationalError) as caught:
            store.append("wallet-U1", 1, events(1, start=1))
        assert caught.value.connection_invalidated  # what ingest/failures.py looks for

        store.append("wallet-U1", 1, events(1, start=1))  # a retry reconnects
        assert [e.version for e in store.load_stream("wallet-U1")] == [1, 2]


def test_a_reader_whose_connection_died_in_use_reconnects_on_its_retry(
    pg_url: str, pg_connect: Connect
):
    with open_store(pg_url, ping_after_idle=60.0) as (store, application):
        store.append("wallet-U1", 0, events(1))
        store.read_all()
        assert kill_backends(pg_connect(), application) >= 1

        # read_all uses the driver's cursor: its error may come unwrapped
        with pytest.raises((OperationalError, psycopg.OperationalError)):
            store.read_all()
        settle(store)  # (reconnects too)
        assert [e.version for e in store.read_all()] == [1]
