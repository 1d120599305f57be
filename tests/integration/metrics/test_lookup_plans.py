"""The write path's lookups into the read model (the latest stored minute of a metric, the
stored sketches a batch merges with) read one index entry per key on PostgreSQL, whether or
not the table has statistics: a server with autovacuum off never analyzes it, and plans
chosen without statistics had read every row of the metric, or of the generation, per
batch, growing with history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, Engine, event

from domain.eventstore.engine import make_engine
from ingest.metrics import storage
from ingest.metrics.timegrid import MINUTE
from ingest.readmodel import create_read_model

MINUTES = 20_000
START = 1_700_000_040 - 1_700_000_040 % MINUTE


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=2)
    create_read_model(engine, storage.metadata)
    rows = [
        (metric, MINUTE, START + i * MINUTE, "", 1, 0, None, None, b"\x01")
        for metric in ("active_investors", "settlement_time_p95")
        for i in range(MINUTES)
    ]
    with engine.begin() as conn:  # no ANALYZE afterwards: the table has no statistics
        storage.upsert_buckets(conn, 1, rows)
    yield engine
    engine.dispose()


def rows_read_from_buckets(conn: Connection, statement: str, params: Any) -> int:
    """Rows the plan's scans of ``rm_metric_buckets`` read, by EXPLAIN ANALYZE."""
    found = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params).scalar()
    plan = found if isinstance(found, list) else orjson.loads(found)

    def walk(node: dict[str, Any]) -> int:
        own = 0
        if node.get("Relation Name") == "rm_metric_buckets":
            own = int(node["Actual Rows"]) * int(node["Actual Loops"])
        return own + sum(walk(child) for child in node.get("Plans", ()))

    return walk(plan[0]["Plan"])


def captured(engine: Engine, call: Any) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def remember(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if "rm_metric_buckets" in statement:
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        with engine.connect() as conn:
            call(conn)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return statements


def test_the_latest_stored_minute_of_a_metric_is_one_index_entry_read(engine: Engine) -> None:
    metrics = ["active_investors", "settlement_time_p95"]
    with engine.connect() as conn:
        latest = storage.latest_minutes(conn, 1, metrics)
    assert latest == {m: START + (MINUTES - 1) * MINUTE for m in metrics}
    [(statement, params)] = captured(engine, lambda c: storage.latest_minutes(c, 1, metrics))
    with engine.connect() as conn:
        assert rows_read_from_buckets(conn, statement, params) <= len(metrics)


def test_stored_sketches_are_read_one_index_entry_per_key(engine: Engine) -> None:
    keys = [("active_investors", MINUTE, START + i * MINUTE, "") for i in range(0, 600, 3)]
    with engine.connect() as conn:
        found = storage.stored_sketches(conn, 1, keys)
    assert set(found) == set(keys)
    [(statement, params)] = captured(engine, lambda c: storage.stored_sketches(c, 1, keys))
    with engine.connect() as conn:
        assert rows_read_from_buckets(conn, statement, params) <= len(keys)
