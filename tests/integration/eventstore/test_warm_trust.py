"""Kept aggregates used without reading their stream, on SQLite, and never stale.

A SQLite write session may vouch that nothing was appended to a stream since an aggregate
was kept (``WriteChain`` in ``domain/eventstore/sql_write.py``); then the command reads no
events at all. Any append by another store, another platform or another process in between
makes it read the stream as before. (A stale kept aggregate that the command appends to
would still be refused by the unique ``(stream_id, version)``; the tests ask ``trusts``
itself, which is what an aggregate that is only read depends on.)
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from domain.aggregates import Wallet
from domain.commands import Deposit, RegisterUser, RequestWithdrawal, VerifyKyc
from domain.errors import DomainError
from domain.eventstore import EventStore, StreamAppend, sql_write
from domain.eventstore.sql import SqlEventStore
from domain.platform import Platform, bootstrap
from tests.integration.eventstore.helpers import events

D = Decimal
STREAM_READ = "FROM events WHERE stream_id"
sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
sql_backends = pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)


def funded(store: EventStore, user: str = "U1") -> Platform:
    platform = bootstrap(store)
    platform.handle(RegisterUser(user_id=user, channel="app"))
    platform.handle(VerifyKyc(user_id=user))
    platform.handle(Deposit(user_id=user, amount=D("100.00"), channel="alipay"))
    return platform


@pytest.fixture
def statements(store: EventStore) -> Iterator[list[str]]:
    """Every SQL statement the store's SQLite connections run from now on."""
    assert isinstance(store, SqlEventStore)
    seen: list[str] = []

    def trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    event.listen(store.engine, "checkout", trace)
    yield seen
    event.remove(store.engine, "checkout", trace)


@sqlite_only
def test_a_command_on_kept_aggregates_reads_no_events(store: EventStore, statements: list[str]):
    platform = funded(store)
    statements.clear()

    platform.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))

    assert statements and not [s for s in statements if STREAM_READ in s]
    wallet = bootstrap(store, warm_capacity=0).load(Wallet, "U1")
    assert (wallet.version, wallet.balance) == (2, D("101.00"))
    assert platform.load(Wallet, "U1").as_dict() == wallet.as_dict()


def stamp_of(platform: Platform, stream_id: str) -> object:
    """The stamp ``platform`` kept ``stream_id``'s aggregate with."""
    return platform.repository._warm[stream_id][1]


def trusted(store: EventStore, stream_id: str, version: int, stamp: object) -> bool:
    assert isinstance(store, SqlEventStore)
    with store.session() as session:
        return session.trusts(stream_id, version, stamp)


def hold(platform: Platform, withdrawal_id: str) -> None:
    platform.handle(RequestWithdrawal(user_id="U1", withdrawal_id=withdrawal_id, amount=D("1")))


@sqlite_only
def test_a_kept_aggregate_is_trusted_only_while_nothing_else_appended_to_its_stream(
    store: EventStore,
):
    mine = funded(store)
    mine.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))
    stamp = stamp_of(mine, "wallet-U1")
    assert trusted(store, "wallet-U1", 2, stamp)
    mine.handle(RegisterUser(user_id="U2", channel="app"))  # this platform, another stream
    assert trusted(store, "wallet-U1", 2, stamp)

    hold(bootstrap(store), "W1")  # another platform on the same store: the same writer

    assert not trusted(store, "wallet-U1", 2, stamp)
    assert trusted(store, "user-U2", 1, stamp_of(mine, "user-U2"))  # untouched: still true


@sqlite_only
def test_an_append_through_another_store_ends_all_trust_in_older_stamps(
    store: EventStore, store_url: str
):
    mine = funded(store)
    mine.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))
    stamp = stamp_of(mine, "wallet-U1")
    other = SqlEventStore.open(store_url)  # another writer (as another process is)
    try:
        bootstrap(other).handle(RegisterUser(user_id="U9", channel="app"))  # any stream
        assert not trusted(store, "wallet-U1", 2, stamp)
        assert not trusted(other, "wallet-U1", 2, stamp)  # nor by a store it is not from
    finally:
        other.close()
    mine.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))  # read, kept anew
    assert trusted(store, "wallet-U1", 3, stamp_of(mine, "wallet-U1"))


@sqlite_only
def test_a_stream_the_writer_no_longer_remembers_is_not_trusted(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sql_write, "WRITTEN_CAPACITY", 1)
    mine = funded(store)
    mine.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))
    stamp = stamp_of(mine, "wallet-U1")
    other = bootstrap(store)
    hold(other, "W1")
    other.handle(RegisterUser(user_id="U2", channel="app"))  # wallet-U1 forgotten
    other.handle(RegisterUser(user_id="U3", channel="app"))
    assert not trusted(store, "wallet-U1", 2, stamp)


@sqlite_only
def test_an_append_rolled_back_leaves_its_stream_untrusted(store: EventStore):
    mine = funded(store)
    stamp = stamp_of(mine, "wallet-U1")
    assert isinstance(store, SqlEventStore)
    with pytest.raises(RuntimeError), store.session() as session:
        session.append_streams([StreamAppend("wallet-U1", "wallet", 1, events(1))])
        raise RuntimeError("the unit of work fails before its commit")
    assert not trusted(store, "wallet-U1", 1, stamp)  # careful: it looks appended to
    assert mine.load(Wallet, "U1").version == 1


@sql_backends
def test_an_append_through_another_store_is_seen_by_a_kept_aggregate(
    store: EventStore, store_url: str
):
    mine = funded(store)
    mine.handle(Deposit(user_id="U1", amount=D("1.00"), channel="alipay"))  # kept, stamped
    other_store = SqlEventStore.open(store_url)
    try:
        bootstrap(other_store).handle(
            RequestWithdrawal(user_id="U1", withdrawal_id="W1", amount=D("101.00"))
        )
    finally:
        other_store.close()
    with pytest.raises(DomainError, match="available"):  # sees the other writer's hold
        mine.handle(RequestWithdrawal(user_id="U1", withdrawal_id="W2", amount=D("0.01")))
    assert mine.load(Wallet, "U1").held == D("101.00")


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_postgres_sessions_vouch_for_nothing(store: EventStore):
    assert isinstance(store, SqlEventStore)
    platform = funded(store)
    with store.session() as session:
        assert session.warm_stamp is None
        stamp = stamp_of(platform, "wallet-U1")
        assert stamp is None and not session.trusts("wallet-U1", 1, stamp)
