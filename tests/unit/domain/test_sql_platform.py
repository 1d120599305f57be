"""The platform on the real SQL event store (SQLite file): the same behaviour as in memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from domain import commands as c
from domain.aggregates import Loan, Wallet
from domain.eventstore import EventStore
from domain.platform import bootstrap

D = Decimal


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    store = EventStore.from_url(f"sqlite:///{tmp_path / 'events.db'}")
    yield store
    store.close()


def test_a_loan_lifecycle_round_trips_through_sqlite_with_snapshots(
    sqlite_store: EventStore,
) -> None:
    platform = bootstrap(sqlite_store, snapshot_interval=2)
    for command in [
        c.RegisterUser("U1", "app"),
        c.VerifyKyc("U1"),
        c.RegisterUser("U2", "web"),
        c.VerifyKyc("U2"),
        c.RegisterUser("B1", "partner"),
        c.Deposit("U1", D("1000.00"), "alipay"),
        c.Deposit("U2", D("500.55"), "wechat_pay"),
        c.ApplyForLoan("L1", "B1", D("900.00"), 2, D("0.085"), "business"),
        c.ApproveLoan("L1"),
        c.Invest("U1", "L1", D("600.00")),
        c.Invest("U2", "L1", D("300.00")),
        c.DisburseLoan("L1"),
        c.ReceiveRepayment("L1", 1),
    ]:
        platform.handle(command)
    assert sqlite_store.load_snapshot("loan-L1") is not None
    replay = bootstrap(sqlite_store, snapshot_interval=0)
    for stream_id in ("wallet-U1", "wallet-U2", "loan-L1", "user-U1"):
        assert platform.load(stream_id).as_dict() == replay.load(stream_id).as_dict()
    loan = platform.load(Loan, "L1")
    # 450.00 principal + 900.00 * 0.085 / 12 = 6.375 -> 6.38 interest, split 2:1
    assert (loan.outstanding_principal, loan.figures["interest_repaid"]) == (D("450"), D("6.38"))
    assert platform.load(Wallet, "U1").available == D("1000.00") - 600 + 300 + D("4.26")
    assert platform.load(Wallet, "U2").available == D("500.55") - 300 + 150 + D("2.12")


def test_a_command_is_idempotent_on_sqlite(sqlite_store: EventStore) -> None:
    platform = bootstrap(sqlite_store)
    platform.handle(c.RegisterUser("U1", "app"))
    deposit = c.Deposit("U1", D("10"), "alipay")
    first = platform.handle(deposit)
    assert platform.handle(deposit) == first
    assert len(sqlite_store.read_all()) == 2


def test_concurrent_writers_to_one_wallet_lose_no_update(sqlite_store: EventStore) -> None:
    bootstrap(sqlite_store).handle(c.RegisterUser("U1", "app"))
    errors: list[BaseException] = []

    def writer() -> None:
        platform = bootstrap(sqlite_store, max_retries=100)
        try:
            for _ in range(10):
                platform.handle(c.Deposit("U1", D("1.25"), "unionpay"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    wallet = bootstrap(sqlite_store).load(Wallet, "U1")
    assert (wallet.balance, wallet.version) == (D("50.00"), 40)
