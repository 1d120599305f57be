"""Hour and day roll-ups live in their own table; a read model written by an older version
(roll-ups among the minute rows) is moved over once, when the group prepares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from domain.eventstore.engine import make_engine
from ingest.metrics import storage
from ingest.metrics.timegrid import DAY, HOUR, MINUTE
from ingest.readmodel import create_read_model

ROWS = [  # metric, resolution, bucket_start, dim, n, total, vmin, vmax, sketch
    ("deposits", MINUTE, 1_700_000_040, "app", 1, 500, 500, 500, None),
    ("deposits", HOUR, 1_699_999_200, "app", 3, 900, 100, 500, None),
    ("deposits", DAY, 1_699_977_600, "app", 7, 2_000, 100, 900, None),
    ("active_investors", HOUR, 1_699_999_200, "", 2, 0, None, None, b"\x01\x02"),
]


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url, pool_size=2)
    create_read_model(engine, storage.metadata)
    yield engine
    engine.dispose()


def rows_in(engine: Engine, table: str) -> set[tuple[object, ...]]:
    with engine.connect() as conn:
        found = conn.execute(
            text(f"SELECT metric, resolution, bucket_start, dim, n, total, sketch FROM {table}")
        ).all()
    return {
        (r[0], r[1], r[2], r[3], r[4], r[5], None if r[6] is None else bytes(r[6])) for r in found
    }


def test_minutes_and_roll_ups_are_written_to_their_own_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        storage.upsert_buckets(conn, 1, ROWS)
    assert {r[1] for r in rows_in(engine, "rm_metric_buckets")} == {MINUTE}
    assert {r[1] for r in rows_in(engine, "rm_metric_rollups")} == {HOUR, DAY}
    with engine.connect() as conn:
        sketches = storage.stored_sketches(conn, 1, [("active_investors", HOUR, 1_699_999_200, "")])
    assert sketches == {("active_investors", HOUR, 1_699_999_200, ""): b"\x01\x02"}


def test_roll_ups_left_among_the_minutes_by_an_older_version_move_over_once(
    engine: Engine,
) -> None:
    columns = "generation, metric, resolution, bucket_start, dim, n, total, vmin, vmax, sketch"
    marks = ", ".join(f":p{i}" for i in range(10))
    with engine.begin() as conn:  # the old layout: everything in rm_metric_buckets
        for row in ROWS:
            values = (1, *row)
            conn.execute(
                text(f"INSERT INTO rm_metric_buckets ({columns}) VALUES ({marks})"),
                {f"p{i}": v for i, v in enumerate(values)},
            )
    before = rows_in(engine, "rm_metric_buckets")
    with engine.begin() as conn:
        assert storage.move_rollups(conn, 1, ["deposits", "active_investors"]) == 3
    assert rows_in(engine, "rm_metric_buckets") == {r for r in before if r[1] == MINUTE}
    assert rows_in(engine, "rm_metric_rollups") == {r for r in before if r[1] != MINUTE}
    with engine.begin() as conn:
        assert storage.move_rollups(conn, 1, ["deposits", "active_investors"]) == 0


def test_roll_up_rows_reach_the_table_in_key_order(engine: Engine) -> None:
    """On PostgreSQL the heap keeps insertion order: a batch's roll-ups written in key order
    keep each metric's hours together, so a 30-day chart reads a few rows per page."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps the roll-up table (WITHOUT ROWID) in key order anyway")
    hours = [
        (metric, HOUR, 1_699_999_200 + 3600 * h, dim, 1, 100, 100, 100, None)
        for h in (2, 0, 1) for dim in ("web", "app") for metric in ("withdrawals", "deposits")
    ]  # fmt: skip
    with engine.begin() as conn:
        storage.upsert_buckets(conn, 1, hours)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT metric, bucket_start, dim FROM rm_metric_rollups ORDER BY ctid")
        ).all()
    assert [tuple(r) for r in stored] == sorted((m, s, d) for m, _, s, d, *_ in hours)
