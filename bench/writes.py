"""The write paths measured by ``bench/append.py``, each beside its raw-driver baseline."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench.common import timed
from bench.stores import END
from domain.commands import Command, Deposit, RegisterUser, RequestWithdrawal, VerifyKyc
from domain.eventstore.sql import SqlEventStore
from domain.platform import bootstrap
from domain.simulator.scenario import DEFAULT_BACKFILL_RATE, Scenario
from domain.simulator.session import Simulation

ROW_COLUMNS = (
    "tx_id, stream_id, stream_type, version, event_type, schema_version, occurred_at, "
    "recorded_at, payload, metadata"
)
INITIAL_BALANCE = Decimal("10000.00")


def _driver(store: SqlEventStore) -> tuple[Any, bool]:
    """A pooled driver connection of the store's own engine (same settings, same driver)."""
    raw = store.engine.raw_connection()
    return raw, store.engine.dialect.name == "postgresql"


def rows_after(store: SqlEventStore, position: int) -> list[tuple[Any, ...]]:
    """The stored rows after ``position``, payload and metadata as the JSON text stored."""
    postgres = store.engine.dialect.name == "postgresql"
    text = "payload::text, metadata::text" if postgres else "payload, metadata"
    columns = ROW_COLUMNS.replace("payload, metadata", text)
    mark = "%s" if postgres else "?"
    raw, _ = _driver(store)
    try:
        cursor = raw.cursor()
        cursor.execute(
            f"SELECT {columns} FROM events WHERE position > {mark} ORDER BY position", (position,)
        )
        rows = [tuple(r) for r in cursor.fetchall()]
        raw.commit()
        return rows
    finally:
        raw.close()


def last_position(store: SqlEventStore) -> int:
    return store.head().position


# --- commands through the full domain path ----------------------------------------------


def seed_wallets(store: SqlEventStore, users: int) -> list[str]:
    """Registered, verified users with a funded wallet (one transaction)."""
    platform = bootstrap(store)
    ids = [f"B{n:06d}" for n in range(1, users + 1)]
    with platform.batch(skip_handled=False) as batch:
        for user in ids:
            batch.handle(RegisterUser(user_id=user, channel="app"))
            batch.handle(VerifyKyc(user_id=user))
            batch.handle(Deposit(user_id=user, amount=INITIAL_BALANCE, channel="alipay"))
    return ids


def command_mix(users: list[str], count: int, seed: int) -> list[Command]:
    """70% deposits, 30% small withdrawal requests, on random existing wallets."""
    rng = random.Random(seed)
    commands: list[Command] = []
    for n in range(count):
        user = rng.choice(users)
        if rng.random() < 0.7:
            amount = Decimal(rng.randint(1_000, 500_000)).scaleb(-2)
            channel = rng.choice(("alipay", "wechat_pay", "unionpay"))
            commands.append(Deposit(user_id=user, amount=amount, channel=channel))
        else:
            amount = Decimal(rng.randint(100, 5_000)).scaleb(-2)
            commands.append(RequestWithdrawal(user_id=user, withdrawal_id=f"W{seed}-{n}",
                                              amount=amount))  # fmt: skip
    return commands


def handle_all(store: SqlEventStore, commands: list[Command]) -> float:
    platform = bootstrap(store)
    seconds, _ = timed(lambda: [platform.handle(command) for command in commands])
    return seconds


def insert_one_per_transaction(
    store: SqlEventStore, rows: list[tuple[Any, ...]], tag: str
) -> float:
    """One INSERT + COMMIT per row, stream ids prefixed with ``tag`` (so they are new)."""
    raw, postgres = _driver(store)
    try:
        cursor = raw.cursor()
        if postgres:
            sql = (f"INSERT INTO events ({ROW_COLUMNS}) VALUES (pg_current_xact_id()::text::bigint,"
                   " %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)")  # fmt: skip
            values = [(f"{tag}{r[1]}", *r[2:]) for r in rows]

            def run() -> None:
                for value in values:
                    cursor.execute(sql, value)
                    raw.commit()
        else:
            cursor.execute("SELECT coalesce(max(tx_id), 0) FROM events")
            tx = int(cursor.fetchone()[0])
            sql = f"INSERT INTO events ({ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            values = [(tx + i, f"{tag}{r[1]}", *r[2:]) for i, r in enumerate(rows, start=1)]

            def run() -> None:
                for value in values:
                    cursor.execute("BEGIN IMMEDIATE")
                    cursor.execute(sql, value)
                    cursor.execute("COMMIT")

        seconds, _ = timed(run)
        return seconds
    finally:
        raw.close()


# --- the simulator's backfill -------------------------------------------------------------


def backfill(store: SqlEventStore, events: int, seed: int) -> tuple[float, int]:
    """The simulator's backfill (``platform.batch`` chunks) of about ``events`` events."""
    span = timedelta(seconds=events / DEFAULT_BACKFILL_RATE)
    simulation = Simulation(store, Scenario(seed=seed), now=END, progress=False,
                            out=lambda _: None)  # fmt: skip
    seconds, _ = timed(lambda: simulation.run(backfill=span, duration=timedelta(0)))
    return seconds, simulation.backfill_stats.total


def insert_multirow(store: SqlEventStore, rows: list[tuple[Any, ...]]) -> float:
    """The same rows with executemany, one transaction per backfill transaction (tx_id)."""
    groups: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    raw, postgres = _driver(store)
    mark = "%s" if postgres else "?"
    json = "::jsonb" if postgres else ""
    sql = (f"INSERT INTO events ({ROW_COLUMNS}) VALUES ({', '.join([mark] * 8)}, "
           f"{mark}{json}, {mark}{json})")  # fmt: skip
    try:
        cursor = raw.cursor()

        def run() -> None:
            for group in groups.values():
                if not postgres:
                    cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(sql, group)
                if postgres:
                    raw.commit()
                else:
                    cursor.execute("COMMIT")

        seconds, _ = timed(run)
        return seconds
    finally:
        raw.close()
