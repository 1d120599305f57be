"""After an outage the ingest catches up on a backlog: rules are evaluated at the metrics
watermark and marked stale, and nobody is paged for windows that were merely unprocessed.

```
 minutes   -60 ........ 0 ........ +20 ... +30 ........ +60
 events    processed    | backlog (ingest down): withdrawals fail 100% in +20..+30
 ticks     fresh at 0   |                            stale while catching up, fresh after
```
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.eventstore import EventStore
from ingest.alerts import storage
from ingest.alerts.loop import AlertService
from ingest.alerts.tables import outbox
from ingest.runtime import Runtime, bootstrap
from ingest.settings import Settings
from tests.clock import ManualClock
from tests.integration.alerts.bench import METRICS
from tests.integration.alerts.conftest import open_store
from tests.integration.alerts.history import live

T0 = datetime(2024, 1, 15, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: business hours
RULES = [
    {"name": "stopped", "metric": "deposit_count", "window": "10m", "condition": "== 0",
     "active_hours": "09:00-23:00", "severity": "critical"},
    {"name": "spike", "metric": "failure_rate", "window": "15m", "condition": "> 10%"},
]  # fmt: skip


@pytest.fixture
def runtime(sqlite_db: str) -> Iterator[Runtime]:
    clock = ManualClock(T0 - timedelta(hours=1))
    store = open_store(sqlite_db, clock)
    settings = Settings.model_validate(
        {"metrics": METRICS, "alerts": {"rules": RULES, "max_ingest_lag_s": 60},
         "ingest": {"batch_size": 60}}
    )  # fmt: skip
    runtime = bootstrap(settings, only=["kpis"], store=store, clock=clock)
    try:
        yield runtime
    finally:
        runtime.close()


def prepared(runtime: Runtime) -> tuple[AlertService, EventStore, ManualClock]:
    """The runtime's alert service, store and manual clock, with its group prepared."""
    alerts = runtime.alerts
    assert alerts is not None
    clock: ManualClock = alerts.clock  # type: ignore[assignment]
    runtime.processors[0].prepare()
    return alerts, runtime.store, clock


def catch_up(runtime: Runtime, *, steps: int | None = None) -> int:
    processor = runtime.processors[0]
    done = 0
    while (steps is None or done < steps) and processor.step():
        done += 1
    return done


def hour_with_an_incident(store: EventStore, clock: ManualClock, start: datetime) -> None:
    """An hour of business from ``start``; every withdrawal fails in minutes 20 to 29."""
    live(store, clock, start, 20, deposits=3, requested=2)
    live(store, clock, start + timedelta(minutes=20), 10, deposits=3, requested=2, failed=2)
    live(store, clock, start + timedelta(minutes=30), 30, deposits=3, requested=2)


def fresh_at_t0_then_down(runtime: Runtime) -> tuple[AlertService, ManualClock]:
    """An hour processed and evaluated fresh at T0; then the ingest is down for an hour
    with an incident in it."""
    alerts, store, clock = prepared(runtime)
    live(store, clock, T0 - timedelta(hours=1), 60, deposits=3, requested=2)
    catch_up(runtime)
    clock.set(T0)
    assert not alerts.tick().moment.stale
    hour_with_an_incident(store, clock, T0)
    return alerts, clock


def test_a_backlog_is_evaluated_at_the_watermark_and_pages_nobody(runtime: Runtime) -> None:
    alerts, clock = fresh_at_t0_then_down(runtime)
    clock.set(T0 + timedelta(minutes=60))
    # Read at the wall clock, the unprocessed window looks as if deposits had stopped:
    assert alerts.rules.metrics.value("deposit_count", "10m", clock()) == 0

    report = alerts.tick()
    assert report.moment.stale and report.moment.lag_s > 60
    assert report.moment.watermark == T0 - timedelta(minutes=1)  # the last minute processed
    assert report.moment.at == T0 - timedelta(minutes=1, seconds=1)  # windows end where it starts
    assert report.evaluated == 0  # evaluated at T0 already: nothing new to learn
    assert state(runtime, "stopped")["state"] == "normal"
    assert state(runtime, "stopped")["stale"] == 1

    stale_ticks = 0
    while catch_up(runtime, steps=1):
        clock.advance(timedelta(seconds=2))
        stale_ticks += alerts.tick().moment.stale
    clock.advance(timedelta(seconds=2))
    assert not alerts.tick().moment.stale
    assert stale_ticks >= 5

    with runtime.engine.connect() as conn:
        spike = storage.read_history(conn, "spike")
        stopped = storage.read_history(conn, "stopped")
        assert conn.execute(select(outbox)).all() == []  # nobody was paged
    assert [(r["from_state"], r["to_state"], r["stale"]) for r in spike] == [
        ("normal", "firing", 1), ("firing", "normal", 1),
    ]  # fmt: skip
    fired_at = spike[0]["at"]
    assert T0 + timedelta(minutes=20) < fired_at < T0 + timedelta(minutes=45)  # event time
    assert stopped == []
    assert state(runtime, "spike")["stale"] == 0


def test_an_incident_in_a_backlog_worked_off_between_two_rounds_is_in_the_history(
    runtime: Runtime,
) -> None:
    """The ingest restarts after an outage and works off the whole backlog before the next
    round, which is therefore fresh: the minutes it missed are evaluated first (stale,
    silent), so the incident inside the backlog is in the history and pages nobody."""
    alerts, clock = fresh_at_t0_then_down(runtime)
    catch_up(runtime)
    clock.set(T0 + timedelta(minutes=60, seconds=5))

    report = alerts.tick()
    assert not report.moment.stale
    assert report.evaluated == 2 * 61  # 60 missed minutes and the moment, for each rule
    with runtime.engine.connect() as conn:
        spike = storage.read_history(conn, "spike")
        assert conn.execute(select(outbox)).all() == []  # over before anyone could be told
        assert storage.read_history(conn, "stopped") == []
    assert [(r["from_state"], r["to_state"], r["stale"]) for r in spike] == [
        ("normal", "firing", 1), ("firing", "normal", 1),
    ]  # fmt: skip
    fired, ended = (row["at"].replace(tzinfo=UTC) for row in spike)
    assert fired == T0 + timedelta(minutes=21, seconds=5)  # the first minute with failures
    assert ended == T0 + timedelta(minutes=43, seconds=5)  # 2 failed of 30 in the window
    assert state(runtime, "spike") == {"state": "normal", "stale": 0}


def test_an_incident_in_history_processed_within_one_round_is_in_the_history(
    runtime: Runtime,
) -> None:
    """A backfill's history, recorded just now and processed in one go between two stale
    rounds: the second round steps through it minute by minute."""
    alerts, store, clock = prepared(runtime)
    clock.set(T0)
    start = T0 - timedelta(hours=3)
    hour_with_an_incident(store, clock, start)
    catch_up(runtime, steps=1)  # the first 12 minutes
    clock.advance(timedelta(seconds=5))
    first = alerts.tick()
    assert first.moment.stale and first.evaluated == 2
    catch_up(runtime)
    clock.advance(timedelta(seconds=5))

    report = alerts.tick()
    assert report.moment.stale
    assert report.moment.at == start + timedelta(minutes=59, seconds=-1)
    assert first.moment.at is not None
    assert report.evaluated == 2 * (report.moment.at - first.moment.at) // timedelta(minutes=1)
    with runtime.engine.connect() as conn:
        spike = storage.read_history(conn, "spike")
        assert conn.execute(select(outbox)).all() == []
    assert [(r["from_state"], r["to_state"], r["stale"]) for r in spike] == [
        ("normal", "firing", 1), ("firing", "normal", 1),
    ]  # fmt: skip
    fired = spike[0]["at"].replace(tzinfo=UTC)
    assert start + timedelta(minutes=20) < fired <= start + timedelta(minutes=22)


def test_a_stale_tick_without_a_newer_watermark_changes_nothing(runtime: Runtime) -> None:
    alerts, store, clock = prepared(runtime)
    live(store, clock, T0 - timedelta(minutes=30), 30, deposits=3, requested=2)
    catch_up(runtime, steps=1)
    clock.advance(timedelta(minutes=5))
    first = alerts.tick()
    assert first.moment.stale and first.evaluated == 2
    clock.advance(timedelta(minutes=5))
    again = alerts.tick()
    assert again.moment.stale and again.evaluated == 0
    assert again.moment.at == first.moment.at


def state(runtime: Runtime, rule: str) -> dict[str, object]:
    with runtime.engine.connect() as conn:
        status = storage.load_states(conn)[rule].status
    return {"state": status.state, "stale": int(status.stale)}


def test_history_recorded_just_now_is_evaluated_at_the_watermark_and_pages_nobody(
    runtime: Runtime,
) -> None:
    """A backfill or an import: the backlog was recorded seconds ago, but it lies hours back
    in business time, so windows ending now are as empty as after an outage."""
    alerts, store, clock = prepared(runtime)
    clock.set(T0)
    live(store, clock, T0 - timedelta(hours=2), 120, deposits=3, requested=2)  # recorded at T0
    catch_up(runtime, steps=2)  # 24 of the 120 minutes processed
    clock.advance(timedelta(seconds=5))

    report = alerts.tick()
    assert report.moment.stale
    assert report.moment.watermark is not None
    assert report.moment.watermark < T0 - timedelta(hours=1)
    assert report.moment.lag_s > 3600  # how far behind in business time

    stale = []
    while catch_up(runtime, steps=1):
        clock.advance(timedelta(seconds=2))
        stale.append(alerts.tick().moment.stale)
    assert stale[:6] == [True] * 6  # fresh only within a minute or so of the wall clock
    clock.advance(timedelta(seconds=2))
    assert not alerts.tick().moment.stale
    with runtime.engine.connect() as conn:
        assert conn.execute(select(outbox)).all() == []  # nobody was paged
        assert storage.read_history(conn, "stopped") == []
    assert state(runtime, "stopped")["state"] == "normal"


def test_a_late_event_waiting_behind_a_fresh_watermark_keeps_the_round_fresh(
    runtime: Runtime,
) -> None:
    alerts, store, clock = prepared(runtime)
    live(store, clock, T0 - timedelta(minutes=30), 30, deposits=3, requested=2)
    catch_up(runtime)
    clock.set(T0 + timedelta(seconds=10))
    live(store, clock, T0 - timedelta(minutes=15), 1, deposits=1)  # occurred 15 minutes ago
    report = alerts.tick()
    assert not report.moment.stale
    assert report.moment.at == T0 + timedelta(seconds=10)


def test_history_processed_as_fast_as_it_is_written_is_still_evaluated_stale(
    runtime: Runtime,
) -> None:
    """The ingest keeps up with a backfill: nothing waits to be processed, yet the newest
    events were recorded just now about business hours ago; windows ending now hold
    nothing, and deposits would look stopped."""
    alerts, store, clock = prepared(runtime)
    clock.set(T0)
    live(store, clock, T0 - timedelta(hours=2), 60, deposits=3, requested=2)
    catch_up(runtime)
    clock.advance(timedelta(seconds=5))
    report = alerts.tick()
    assert report.moment.stale
    assert report.moment.watermark == T0 - timedelta(hours=1, minutes=1)
    assert report.moment.at == T0 - timedelta(hours=1, minutes=1, seconds=1)

    live(store, clock, T0 - timedelta(hours=1), 60, deposits=3, requested=2)  # up to now
    catch_up(runtime)
    clock.advance(timedelta(seconds=5))
    assert not alerts.tick().moment.stale
    with runtime.engine.connect() as conn:
        assert conn.execute(select(outbox)).all() == []
        assert storage.read_history(conn, "stopped") == []


def test_a_quiet_platform_is_evaluated_fresh_and_pages(runtime: Runtime) -> None:
    alerts, store, clock = prepared(runtime)
    live(store, clock, T0 - timedelta(minutes=30), 10, deposits=3, requested=2)
    catch_up(runtime)
    clock.set(T0)  # no deposit for 20 minutes, in business hours
    report = alerts.tick()
    assert not report.moment.stale
    assert state(runtime, "stopped")["state"] == "firing"
