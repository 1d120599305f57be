"""Events per type and minute are keyed by minute first, so the Pipeline page's rate chart
reads one range of the key however long the history; a table an older version keyed by
type first is moved to the new key, rows kept, when the group prepares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text

from dashboard.loaders.pipeline import event_rate
from domain.eventstore.engine import make_engine
from ingest.event_counts import KEY, EventCounts, event_counts
from ingest.readmodel import create_read_model

ROWS = [(1, 28_580_000 + i, kind, i + 1) for i in range(0, 3_000, 7)
        for kind in ("FundsDeposited", "UserRegistered")]  # fmt: skip


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url, pool_size=2)
    yield engine
    engine.dispose()


def stored(engine: Engine) -> set[tuple[int, int, str, int]]:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT generation, minute, event_type, events FROM rm_event_counts")
        ).all()
    return {(int(r[0]), int(r[1]), str(r[2]), int(r[3])) for r in found}


def test_a_table_keyed_by_type_first_is_rekeyed_once_with_its_rows(engine: Engine) -> None:
    with engine.begin() as conn:  # the layout an older version created
        conn.execute(text(
            "CREATE TABLE rm_event_counts (generation INTEGER NOT NULL, "
            "event_type VARCHAR(100) NOT NULL, minute BIGINT NOT NULL, events BIGINT NOT NULL, "
            "PRIMARY KEY (generation, event_type, minute))"
        ))  # fmt: skip
        conn.execute(
            text("INSERT INTO rm_event_counts VALUES (:g, :t, :m, :n)"),
            [{"g": g, "m": m, "t": t, "n": n} for g, m, t, n in ROWS],
        )
    with engine.begin() as conn:
        EventCounts().prepare(conn, 1, fresh=False)
    with engine.connect() as conn:
        key = inspect(conn).get_pk_constraint("rm_event_counts")["constrained_columns"]
        assert tuple(key) == KEY
        assert "rm_event_counts_by_type" not in inspect(conn).get_table_names()
    assert stored(engine) == set(ROWS)
    with engine.begin() as conn:  # again: nothing to do, nothing lost
        EventCounts().prepare(conn, 1, fresh=False)
    assert stored(engine) == set(ROWS)


def test_the_rate_chart_reads_only_its_window_of_the_key(engine: Engine) -> None:
    create_read_model(engine, event_counts.metadata)
    with engine.begin() as conn:
        conn.execute(
            event_counts.insert(),
            [{"generation": g, "minute": m, "event_type": t, "events": n} for g, m, t, n in ROWS],
        )
    start, end = 28_581_000 * 60, 28_581_060 * 60  # one hour in the middle
    rate = event_rate(engine, "kpis", start, end, 60)
    inside = [r for r in ROWS if 28_581_000 <= r[1] < 28_581_060]
    assert sorted(rate["per_s"] * 60) == sorted(float(r[3]) for r in inside)
    with engine.connect() as conn:
        # both databases read one range of the (generation, minute, event_type) key; SQLite
        # says so in its plan (keyed by type first it searched by generation alone)
        assert (
            tuple(inspect(conn).get_pk_constraint("rm_event_counts")["constrained_columns"]) == KEY
        )
        if engine.dialect.name == "sqlite":
            sql = (
                "SELECT minute, event_type, events FROM rm_event_counts WHERE generation = 1 "
                "AND minute >= 28581000 AND minute < 28581060"
            )
            plan = " ".join(str(r[3]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "minute>? AND minute<?" in plan, plan
