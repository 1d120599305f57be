"""PostgreSQL specifics: parallel writers, crossing appends, and the bounded pool."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from domain.eventstore import START, ConcurrencyError, EventStore, RecordedEvent, StreamAppend
from domain.eventstore.sql import SqlEventStore
from domain.eventstore.sql_write import Row
from tests.integration.eventstore.helpers import events, settle
from tests.integration.eventstore.sessions import Insert, TransactionSession, use_sessions

Connect = Callable[[], psycopg.Connection]


class PausingStore(SqlEventStore):
    """Holds its transaction open after inserting into ``pause_stream`` until ``resume``."""

    pause_stream = "acct-A"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inside, self.resume = threading.Event(), threading.Event()
        use_sessions(self, PausingSession, store=self)


class PausingSession(TransactionSession):
    def __init__(self, *args: Any, store: PausingStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store

    def inside(self, rows: list[Row], insert: Insert) -> list[RecordedEvent]:
        inserted = insert(rows)
        if rows and rows[0][0] == self.store.pause_stream:
            self.store.inside.set()
            self.store.resume.wait(timeout=10)
        return inserted


class LockstepStore(SqlEventStore):
    """Inserts row by row; after its first row every writer waits for the others."""

    barrier = threading.Barrier(2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_sessions(self, LockstepSession)


class LockstepSession(TransactionSession):
    def inside(self, rows: list[Row], insert: Insert) -> list[RecordedEvent]:
        inserted: list[RecordedEvent] = []
        for index, row in enumerate(rows):
            inserted += insert([row])
            if index == 0:
                LockstepStore.barrier.wait(timeout=10)
        return inserted


def test_writers_to_different_streams_do_not_wait_for_each_other(pg_url: str):
    store = PausingStore.open(pg_url)
    try:
        with ThreadPoolExecutor(1) as pool:
            paused = pool.submit(store.append, "acct-A", 0, events(1))
            assert store.inside.wait(timeout=10), "writer A never reached its insert"
            started = time.monotonic()
            store.append("acct-B", 0, events(1))  # completes while A's transaction is open
            b_took = time.monotonic() - started
            a_still_open = not paused.done()
            a_visible_meanwhile = store.load_stream("acct-A")
            store.resume.set()
            paused.result(timeout=10)
        assert a_still_open and a_visible_meanwhile == []
        assert b_took < 2.0
        assert len(store.load_stream("acct-A")) == len(store.load_stream("acct-B")) == 1
    finally:
        store.resume.set()
        store.close()


def test_crossing_multi_stream_appends_that_deadlock_raise_concurrency_error(pg_url: str):
    store = LockstepStore.open(pg_url)
    LockstepStore.barrier = threading.Barrier(2)

    def append(first: str, second: str) -> str:
        try:
            store.append_streams(
                [
                    StreamAppend(first, "wallet", 0, events(1)),
                    StreamAppend(second, "wallet", 0, events(1)),
                ]
            )
        except ConcurrencyError:
            return "conflict"
        return "appended"

    try:
        with ThreadPoolExecutor(2) as pool:
            crossing = [("wallet-U1", "wallet-U2"), ("wallet-U2", "wallet-U1")]
            outcomes = sorted(pool.map(lambda pair: append(*pair), crossing))
        assert outcomes == ["appended", "conflict"]
        assert len(store.load_stream("wallet-U1")) == len(store.load_stream("wallet-U2")) == 1
        settle(store)
        assert len({e.tx_id for e in store.read_all()}) == 1
    finally:
        store.close()


@pytest.mark.slow
def test_a_store_never_holds_more_connections_than_its_pool_size(pg_url: str, pg_connect: Connect):
    application = f"ll_pool_{uuid.uuid4().hex[:10]}"
    store = EventStore.from_url(pg_url, pool_size=3, application_name=application)
    monitor = pg_connect()
    count_sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"

    def backends() -> int:
        row = monitor.execute(count_sql, [application]).fetchone()
        return int(row[0]) if row else 0

    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(backends())
            stop.wait(0.002)

    def work(worker: int) -> int:
        rng = random.Random(worker)
        stream, version = f"acct-P{worker}", 0
        for op in range(500):
            kind = op % 5
            if kind == 0:
                store.append(stream, version, events(1, start=op))
                version += 1
            elif kind == 1:
                store.read_all(START, limit=50)
            elif kind == 2:
                store.load_stream(f"acct-P{rng.randrange(4)}")
            elif kind == 3:
                store.head()
            else:
                store.command_result(f"cmd-{op}")
        return 500

    def wait_around() -> None:
        while not stop.is_set():
            store.wait_for_new(0.05, after=store.head())

    try:
        with ThreadPoolExecutor(6) as pool:
            sampler, waiter = pool.submit(sample), pool.submit(wait_around)
            done = sum(pool.map(work, range(4)))
            stop.set()
            sampler.result()
            waiter.result()
    finally:
        stop.set()
        store.close()
    deadline = time.monotonic() + 5
    while (after_close := backends()) and time.monotonic() < deadline:
        time.sleep(0.02)

    assert done == 2000
    assert len(samples) > 50
    assert max(samples) <= 3
    assert max(samples) == 3  # the sampler did see the pool working at its bound
    assert after_close == 0
