"""The alert service stores every state change once, with its history row, and carries its
states across a restart."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from ingest.alerts import storage as st
from ingest.alerts.loop import AlertService
from tests.clock import ManualClock
from tests.integration.alerts.bench import SPIKE, Bench, settings_with
from tests.integration.alerts.conftest import open_store


def test_each_transition_is_stored_once_with_value_threshold_and_labels(bench: Bench) -> None:
    bench.set("failure_rate", 0.02)
    bench.tick()
    bench.set("failure_rate", 0.2)
    bench.tick()
    bench.tick()  # still firing: no new row
    bench.set("failure_rate", 0.01)
    bench.tick()
    with bench.engine.connect() as conn:
        rows = st.read_history(conn, "spike")
    assert [(r["from_state"], r["to_state"]) for r in rows] == [
        ("normal", "firing"),
        ("firing", "normal"),
    ]
    fired = rows[0]
    assert fired["value"] == pytest.approx(0.2)
    assert fired["threshold"] == pytest.approx(0.1)
    assert fired["labels"] == {
        "alertname": "spike",
        "severity": "critical",
        "metric": "failure_rate",
        "team": "payments",
    }
    assert fired["stale"] == 0
    assert fired["at"] == fired["recorded_at"]  # evaluated at the wall clock: fresh


def test_the_state_row_shows_the_summary_and_timers(bench: Bench) -> None:
    bench.set("failure_rate", 0.125)
    bench.tick()
    state = bench.state()
    assert state["state"] == "firing"
    assert state["summary"] == "提现失败率 12.5% > 10%"
    assert state["active_since"] == bench.clock()
    assert state["since"] == bench.clock()


def test_a_rule_that_cannot_be_evaluated_is_in_error_with_the_message(bench: Bench) -> None:
    bench.metrics.failing = "database unreachable"
    bench.tick()
    state = bench.state()
    assert state["state"] == "error"
    assert state["detail"] == "ConnectionError: database unreachable"
    assert bench.transitions() == [("normal", "error")]


def test_a_restarted_service_carries_on_from_the_stored_states(any_db: str) -> None:
    clock = ManualClock()
    store = open_store(any_db, clock)
    try:
        bench = Bench(store, settings_with([{**SPIKE, "for": "3m"}]), clock)
        bench.set("failure_rate", 0.3)
        bench.tick()
        bench.tick()
        assert bench.state()["state"] == "pending"
        bench.restart(settings_with([{**SPIKE, "for": "3m"}]))
        bench.tick()
        assert bench.state()["state"] == "pending"  # its pending period did not start over
        bench.tick()
        assert bench.state()["state"] == "firing"
        assert bench.transitions() == [("normal", "pending"), ("pending", "firing")]
    finally:
        store.engine.dispose()


def test_two_services_on_one_database_never_store_a_transition_twice(any_db: str) -> None:
    clock = ManualClock()
    store = open_store(any_db, clock)
    try:
        bench = Bench(store, settings_with([SPIKE]), clock)
        services = [bench.service, bench.restart(settings_with([SPIKE]))]
        bench.set("failure_rate", 0.3)
        start = threading.Barrier(2)

        def tick(service: AlertService) -> None:
            start.wait()
            service.tick()

        threads = [threading.Thread(target=tick, args=(s,)) for s in services]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert bench.transitions() == [("normal", "firing")]
        assert len(bench.notifications()) == 1
    finally:
        store.engine.dispose()


def test_an_evaluation_older_than_the_stored_one_never_moves_the_state_back(
    bench: Bench, sqlite_db: str
) -> None:
    late_clock = ManualClock(bench.clock())  # another evaluator, a minute behind
    late_store = open_store(sqlite_db, late_clock)
    try:
        late = Bench(late_store, settings_with([SPIKE]), late_clock)
        late.metrics = bench.metrics
        late.restart(settings_with([SPIKE]))
        bench.set("failure_rate", 0.3)
        late.tick(minutes=1)
        bench.clock.advance(timedelta(minutes=4))
        bench.set("failure_rate", 0.0)
        bench.tick(minutes=1)
        assert bench.state()["state"] == "normal"
        late.service.tick()  # evaluated at minute 1, stored after the one at minute 5
        assert bench.state()["state"] == "normal"
        assert bench.transitions() == [("normal", "firing"), ("firing", "normal")]
    finally:
        late_store.engine.dispose()


def test_nothing_is_evaluated_before_the_metrics_group_has_read_any_event(
    sqlite_db: str, clock: ManualClock
) -> None:
    """A fresh deployment (or `make demo` starting) has an empty read model: `deposits
    == 0 for 10m` would page at once although nothing was measured yet."""
    store = open_store(sqlite_db, clock)
    try:
        bench = Bench(store, settings_with([SPIKE]), clock)
        with store.engine.begin() as conn:  # as before the ingest's first batch
            conn.execute(text("UPDATE ingest_checkpoints SET tx_id = 0, position = 0"))
        bench.set("failure_rate", 0.3)
        bench.tick()
        with store.engine.connect() as conn:
            status = st.load_states(conn)["spike"].status
        assert (status.state, status.evaluated_at) == ("normal", None)  # never evaluated
        assert bench.transitions() == [] and bench.notifications() == []
    finally:
        store.engine.dispose()
