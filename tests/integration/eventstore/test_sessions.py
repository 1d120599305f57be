"""Units of work on the store: ``session()``, ``load_latest`` and the command path's
connections (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from domain.aggregates import Wallet
from domain.commands import Deposit, RegisterUser, RequestWithdrawal
from domain.eventstore import ConcurrencyError, EventStore, Snapshot, StreamAppend
from domain.eventstore.sql import SqlEventStore
from domain.platform import bootstrap
from tests.integration.eventstore.helpers import events, every_backend

TAKEN = datetime(2024, 3, 1, 10, 11, 12, 345678, tzinfo=UTC)
D = Decimal


def snapshot(stream_id: str, version: int, stream_type: str = "wallet") -> Snapshot:
    return Snapshot(stream_id, stream_type, version, 3, {"balance": "1.00", "n": [1]}, TAKEN)


@every_backend
def test_load_latest_is_the_newest_snapshot_and_the_events_after_it(store: EventStore):
    store.append("wallet-U1", 0, events(5))
    assert store.load_latest("wallet-U1") == (None, store.load_stream("wallet-U1"))
    assert store.load_latest("wallet-U404") == (None, [])

    store.save_snapshot(snapshot("wallet-U1", 3))
    loaded, after = store.load_latest("wallet-U1")
    assert loaded == snapshot("wallet-U1", 3) == store.load_snapshot("wallet-U1")
    assert after == store.load_stream("wallet-U1", after_version=3)
    assert [e.version for e in after] == [4, 5]

    store.save_snapshot(snapshot("wallet-U2", 2))  # a snapshot of a stream without events
    assert store.load_latest("wallet-U2") == (snapshot("wallet-U2", 2), [])


@every_backend
def test_a_session_loads_and_appends_like_the_store(store: EventStore):
    store.append("wallet-U1", 0, events(2))
    with store.session() as session:
        _, loaded = session.load_latest("wallet-U1")
        recorded = session.append_streams(
            [StreamAppend("wallet-U1", "wallet", len(loaded), events(1, start=2))],
            command_id="cmd-s",
        )
        assert session.command_result("cmd-s") == recorded
    assert store.load_stream("wallet-U1")[2:] == recorded
    assert store.command_result("cmd-s") == recorded


@every_backend
def test_a_session_refuses_an_expected_version_beyond_the_stream(store: EventStore):
    store.append("wallet-U1", 0, events(2))
    with pytest.raises(ConcurrencyError) as caught, store.session() as session:
        session.load_stream("wallet-U1")  # known at 2 in this session: 5 is checked anyway
        session.append_streams([StreamAppend("wallet-U1", "wallet", 5, events(1))])
    assert (caught.value.expected_version, caught.value.actual_version) == (5, 2)
    assert len(store.load_stream("wallet-U1")) == 2


@every_backend
def test_a_command_resent_after_its_effects_is_answered_with_its_first_result(
    store: EventStore,
):
    platform = bootstrap(store)
    register = RegisterUser(user_id="U1", channel="app")
    first = platform.handle(register)
    # Deciding again would reject it (the user exists): the first result is returned.
    assert platform.handle(register) == first
    withdraw = RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("5"))
    platform.handle(Deposit(user_id="U1", amount=D("5"), channel="alipay"))
    held = platform.handle(withdraw)
    assert platform.handle(withdraw) == held  # would be "W1 exists" / insufficient funds
    assert len(store.read_all()) == 3


@contextmanager
def checkouts(store: SqlEventStore) -> Iterator[list[Any]]:
    """The connections the store's pool hands out meanwhile."""
    seen: list[Any] = []

    def count(dbapi_connection: Any, *_: Any) -> None:
        seen.append(dbapi_connection)

    event.listen(store.engine, "checkout", count)
    try:
        yield seen
    finally:
        event.remove(store.engine, "checkout", count)


@pytest.fixture
def sql_store(store_url: str) -> Iterator[SqlEventStore]:
    opened = SqlEventStore.open(store_url)
    try:
        yield opened
    finally:
        opened.close()


def test_a_command_takes_one_connection_from_the_pool(sql_store: SqlEventStore):
    platform = bootstrap(sql_store, snapshot_interval=1000)
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    resent = RegisterUser(user_id="U2", channel="web")
    with checkouts(sql_store) as seen:
        platform.handle(Deposit(user_id="U1", amount=D("12.50"), channel="alipay"))  # 2 loads
        first = platform.handle(resent)
        again = platform.handle(resent)  # rejected, then answered in the same session
    assert len(seen) == 3
    assert again == first
    assert platform.load(Wallet, "U1").balance == D("12.50")


def test_a_duplicate_command_costs_one_more_connection_for_its_result(
    sql_store: SqlEventStore,
):
    platform = bootstrap(sql_store)
    platform.handle(RegisterUser(user_id="U1", channel="app"))
    deposit = Deposit(user_id="U1", amount=D("1.00"), channel="alipay")
    first = platform.handle(deposit)
    with checkouts(sql_store) as seen:
        again = platform.handle(deposit)  # decided again, refused by the commands table
    assert again == first
    assert len(seen) == 2
    assert len(sql_store.read_all()) == 2
