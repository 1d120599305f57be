"""ingest.bulk.upsert_rows on both databases: new rows are inserted, existing ones merged,
and two upserts in one transaction each merge only their own rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, text

from domain.eventstore.engine import make_engine
from ingest.bulk import upsert_rows

metadata = MetaData()
tally = Table(
    "test_tally",
    metadata,
    Column("k", String(20), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("n", BigInteger, nullable=False),
)
MERGE = "n = t.n + excluded.n"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url, pool_size=2)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def contents(engine: Engine) -> dict[tuple[str, int], int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT k, slot, n FROM test_tally")).all()
    return {(r[0], int(r[1])): int(r[2]) for r in rows}


def upsert(conn: object, rows: list[tuple[str, int, int]]) -> None:
    upsert_rows(conn, "test_tally", ("k", "slot", "n"), rows, key=("k", "slot"), merge=MERGE)  # type: ignore[arg-type]


def test_new_rows_are_inserted_and_existing_ones_merged(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert(conn, [("a", 1, 1), ("b", 1, 5)])
    with engine.begin() as conn:
        upsert(conn, [("a", 1, 2), ("a", 2, 7), ('it\'s "quoted"\t', 1, 3)])
    assert contents(engine) == {("a", 1): 3, ("b", 1): 5, ("a", 2): 7, ('it\'s "quoted"\t', 1): 3}


def test_two_upserts_in_one_transaction_merge_only_their_own_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert(conn, [("a", 1, 1)])
        with conn.begin_nested():
            upsert(conn, [("b", 1, 10)])
        upsert(conn, [("a", 1, 100)])
    assert contents(engine) == {("a", 1): 101, ("b", 1): 10}


def test_a_rolled_back_savepoint_leaves_nothing_behind_for_the_next_upsert(engine: Engine) -> None:
    with engine.begin() as conn:
        savepoint = conn.begin_nested()
        upsert(conn, [("a", 1, 1)])
        savepoint.rollback()
        upsert(conn, [("b", 1, 2)])
    assert contents(engine) == {("b", 1): 2}


def test_nothing_to_upsert_is_a_no_op(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert(conn, [])
    assert contents(engine) == {}
