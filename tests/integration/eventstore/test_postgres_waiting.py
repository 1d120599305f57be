"""PostgreSQL specifics: private-schema UTC sessions and LISTEN/NOTIFY wake-ups."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import psycopg
from sqlalchemy import Connection

from domain.eventstore import EventStore
from domain.eventstore.sql import NOTIFY_CHANNEL, SqlEventStore
from tests.integration.eventstore.helpers import events, settle

Connect = Callable[[], psycopg.Connection]


class SilentStore(SqlEventStore):
    """Appends without NOTIFY, as if the notification were lost on the way."""

    def _notify(self, conn: Connection) -> None:
        pass


def test_sessions_use_the_private_schema_and_run_in_utc(pg_url: str):
    store = SqlEventStore.open(pg_url)
    try:
        with store.engine.connect() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
            timezone = conn.exec_driver_sql("SHOW timezone").scalar_one()
            events_table = conn.exec_driver_sql("SELECT to_regclass('events')::text").scalar()
    finally:
        store.close()
    assert schema.startswith("t_") and pg_url.endswith(schema)
    assert timezone == "UTC"
    assert events_table == "events"


def test_wait_for_new_ignores_notifications_that_bring_no_new_events(
    pg_url: str, pg_connect: Connect
):
    store = EventStore.from_url(pg_url)
    other_schema = pg_connect()  # another store in another schema shares the channel
    try:
        store.append("loan-L000001", 0, events(1))
        settle(store)
        checkpoint = store.head()
        assert store.wait_for_new(0.05, after=checkpoint) is False  # listening from now on
        notifier = threading.Timer(0.1, other_schema.execute, [f"NOTIFY {NOTIFY_CHANNEL}"])
        notifier.start()
        started = time.monotonic()
        woke = store.wait_for_new(0.6, after=checkpoint)
        elapsed = time.monotonic() - started
        notifier.join()
    finally:
        store.close()
    assert woke is False
    assert elapsed >= 0.595


def test_wait_for_new_notices_an_event_whose_notification_was_lost(pg_url: str):
    reader = EventStore.from_url(pg_url)
    silent = SilentStore.open(pg_url)
    try:
        checkpoint = reader.head()
        assert reader.wait_for_new(0.05, after=checkpoint) is False  # listening from now on
        writer = threading.Timer(0.1, silent.append, ["loan-L000001", 0, events(1)])
        writer.start()
        started = time.monotonic()
        woke = reader.wait_for_new(10.0, after=checkpoint)
        elapsed = time.monotonic() - started
        writer.join()
        read = reader.read_all(checkpoint)
    finally:
        reader.close()
        silent.close()
    assert woke is True
    assert elapsed < 3.0  # found by the periodic re-check, long before the 10 s timeout
    assert [e.stream_id for e in read] == ["loan-L000001"]


def test_wait_for_new_recovers_when_its_listening_connection_is_killed(
    pg_url: str, pg_connect: Connect
):
    application = f"ll_listen_{uuid.uuid4().hex[:10]}"
    store = EventStore.from_url(pg_url, application_name=application)
    admin = pg_connect()
    try:
        checkpoint = store.head()
        assert store.wait_for_new(0.05, after=checkpoint) is False
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND query LIKE 'LISTEN%%'",
            [application],
        ).fetchone()
        assert killed == (1,)
        writer = threading.Timer(0.2, store.append, ["loan-L000001", 0, events(1)])
        writer.start()
        started = time.monotonic()
        woke = store.wait_for_new(10.0, after=checkpoint)
        elapsed = time.monotonic() - started
        writer.join()
        woke_again = store.wait_for_new(0.2, after=store.head())
    finally:
        store.close()
    assert woke is True and elapsed < 3.0
    assert woke_again is False
