"""Contract under concurrency (SQLite and PostgreSQL): no lost, duplicated or skipped events."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from domain.eventstore import (
    START,
    ConcurrencyError,
    DuplicateCommandError,
    EventStore,
    RecordedEvent,
    StreamAppend,
)
from domain.eventstore.sql import SqlEventStore
from domain.eventstore.sql_write import Row
from tests.integration.eventstore.helpers import events, positions, positions_in_table, settle
from tests.integration.eventstore.sessions import Insert, TransactionSession, use_sessions

WRITERS = 8
APPENDS_PER_WRITER = 12


class JitteryStore(SqlEventStore):
    """Sleeps at random inside its write transactions, so that on PostgreSQL transactions
    take ids, insert and commit in scrambled orders (a lower position commits after a
    higher one).

    Two threads can also play a scripted pair, so the scramble happens at least once: X takes
    its transaction id first; Y takes a later one but inserts first (the lower position) and
    stays open until the reader has delivered X's event (the higher position).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role = threading.local()
        self.x_has_tx_id, self.y_inserted = threading.Event(), threading.Event()
        self.x_delivered = threading.Event()
        use_sessions(self, JitterySession, store=self)

    def play(self, role: str) -> list[RecordedEvent]:
        self.role.name = role
        return self.append(f"scripted-{role}", 0, events(1))


class JitterySession(TransactionSession):
    """The jitter (and the X/Y script) inside each append's transaction."""

    def __init__(self, *args: Any, store: JitteryStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store

    def inside(self, rows: list[Row], insert: Insert) -> list[RecordedEvent]:
        store, role = self.store, getattr(self.store.role, "name", None)
        if role == "Y":
            store.x_has_tx_id.wait(timeout=5)
        if self._writer.postgres:
            self._execute("SELECT pg_current_xact_id()")  # take the transaction id now
        if role == "X":
            store.x_has_tx_id.set()
            store.y_inserted.wait(timeout=5)
        elif role is None:
            time.sleep(random.uniform(0, 0.005))
        recorded = insert(rows)
        if role == "Y":
            store.y_inserted.set()
            store.x_delivered.wait(timeout=5)
        else:
            time.sleep(random.uniform(0, 0.020))
        return recorded


def write(store: EventStore, writer: int) -> list[RecordedEvent]:
    """Own streams, multi-event and multi-stream appends, and retried appends to shared ones."""
    recorded: list[RecordedEvent] = []
    own = [f"acct-W{writer}S{k}" for k in range(3)]
    for i in range(APPENDS_PER_WRITER):
        if i % 4 == 3:
            shared = f"pool-{i % 2}"
            while True:
                try:
                    version = len(store.load_stream(shared))
                    recorded += store.append(shared, version, events(1, start=i))
                    break
                except ConcurrencyError:
                    continue
        elif i % 4 == 2:
            a, b = own[0], own[1]
            recorded += store.append_streams(
                [
                    StreamAppend(a, "acct", len(store.load_stream(a)), events(2, start=i)),
                    StreamAppend(b, "acct", len(store.load_stream(b)), events(1, start=i)),
                ]
            )
        else:
            stream = own[i % 3]
            recorded += store.append(stream, len(store.load_stream(stream)), events(1 + i % 3))
    return recorded


def tail(
    reader: EventStore, done: threading.Event, target: list[int], x_delivered: threading.Event
) -> list[list[RecordedEvent]]:
    """Read the log as a projection would: read_all from a checkpoint, wait_for_new when idle."""
    batches: list[list[RecordedEvent]] = []
    checkpoint = START
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up:
        batch = reader.read_all(checkpoint, limit=25)
        if batch:
            batches.append(batch)
            if any(event.stream_id == "scripted-X" for event in batch):
                x_delivered.set()
            checkpoint = batch[-1].checkpoint
            continue
        if done.is_set() and sum(map(len, batches)) >= target[0]:
            break
        reader.wait_for_new(0.5, after=checkpoint)
    return batches


def late_commits(batches: list[list[RecordedEvent]]) -> list[RecordedEvent]:
    """Events delivered after a higher position was already delivered in an earlier batch:
    each one a reader doing ``WHERE position > last`` would have skipped forever."""
    late: list[RecordedEvent] = []
    highest = 0
    for batch in batches:
        late += [event for event in batch if event.position < highest]
        highest = max(highest, *positions(batch))
    return late


def test_a_tailing_reader_sees_every_event_once_while_writers_commit_out_of_order(
    store_url: str,
):
    postgres = "postgresql" in store_url
    writer_store = JitteryStore.open(store_url, pool_size=WRITERS + 3)
    reader = EventStore.from_url(store_url, pool_size=3)
    done, target = threading.Event(), [0]
    try:
        with ThreadPoolExecutor(WRITERS + 3) as pool:
            reading = pool.submit(tail, reader, done, target, writer_store.x_delivered)
            writing = [pool.submit(write, writer_store, w) for w in range(WRITERS)]
            if postgres:  # SQLite's single writer lock would keep X and Y from overlapping
                writing += [pool.submit(writer_store.play, role) for role in ("X", "Y")]
            written = [event for future in writing for event in future.result()]
            in_table = positions_in_table(writer_store)
            target[0] = len(in_table)
            done.set()
            batches = reading.result()
    finally:
        writer_store.close()
        reader.close()

    seen = [event for batch in batches for event in batch]
    assert sorted(positions(seen)) == in_table  # no duplicates, no gaps, nothing extra
    assert sorted(positions(written)) == in_table  # every append is in the table
    assert {e.position: e for e in seen} == {e.position: e for e in written}
    checkpoints = [event.checkpoint for event in seen]
    assert checkpoints == sorted(checkpoints)
    late = late_commits(batches)
    if postgres:
        assert writer_store.x_delivered.is_set(), "the reader never delivered X before Y"
        assert "scripted-Y" in {event.stream_id for event in late}
    else:
        assert late == []  # SQLite has one writer at a time: commit order is position order
    for stream in {event.stream_id for event in seen}:
        versions = [e.version for e in seen if e.stream_id == stream]
        assert versions == list(range(1, len(versions) + 1))


def test_racing_appends_to_one_stream_let_exactly_one_writer_win_each_version(
    store: EventStore,
):
    racers, rounds = 6, 5
    barrier = threading.Barrier(racers)

    def race(racer: int, version: int) -> str:
        barrier.wait(timeout=10)
        try:
            store.append("loan-L000001", version, events(1, start=racer))
        except ConcurrencyError:
            return "conflict"
        return "won"

    with ThreadPoolExecutor(racers) as pool:
        for version in range(rounds):
            outcomes = list(pool.map(race, range(racers), [version] * racers))
            assert sorted(outcomes) == ["conflict"] * (racers - 1) + ["won"]

    assert [e.version for e in store.load_stream("loan-L000001")] == list(range(1, rounds + 1))
    settle(store)
    assert len(store.read_all()) == rounds


def test_racing_duplicates_of_one_command_append_exactly_once(store: EventStore):
    racers = 6
    barrier = threading.Barrier(racers)

    def submit(racer: int) -> list[RecordedEvent] | None:
        barrier.wait(timeout=10)
        try:
            return store.append_streams(
                [StreamAppend(f"wallet-U00000{racer}", "wallet", 0, events(1))],
                command_id="cmd-once",
            )
        except DuplicateCommandError:
            return None

    with ThreadPoolExecutor(racers) as pool:
        results = list(pool.map(submit, range(racers)))

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert store.command_result("cmd-once") == winners[0]
    settle(store)
    assert store.read_all() == winners[0]
