"""What is notified, when, and only once: firing, repeats, resolved, grouping, silences and
restarts, through the log sink (one JSON line per notification)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from ingest.alerts.silences import add_silence, expire_silence
from tests.clock import ManualClock
from tests.integration.alerts.bench import SPIKE, Bench, settings_with, told
from tests.integration.alerts.conftest import open_store


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    lines = [r.getMessage() for r in caplog.records if r.name == "ledgerlens.alerts"]
    caplog.clear()
    return [json.loads(line) for line in lines]


@pytest.fixture(autouse=True)
def _capture_notifications(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ledgerlens.alerts")


def test_a_firing_alert_is_notified_once_then_repeated_every_repeat_interval(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    bench.set("failure_rate", 0.2)
    bench.tick()
    assert bench.service.drain() == 1
    [first] = logged(caplog)
    assert first["status"] == "firing" and told(first) == [("spike", "firing")]
    for _ in range(10):
        bench.tick(minutes=23)  # 3 h 50 min: within the default 4 h repeat interval
    assert bench.service.drain() == 0
    bench.tick(minutes=10)
    assert bench.service.drain() == 1
    assert told(logged(caplog)[0]) == [("spike", "firing")]


def test_a_resolved_notification_says_when_the_alert_ended(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    bench.set("failure_rate", 0.2)
    bench.tick()
    started = bench.clock()
    bench.set("failure_rate", 0.01)
    bench.tick()
    bench.service.drain()
    firing, resolved = logged(caplog)
    assert (firing["status"], resolved["status"]) == ("firing", "resolved")
    [alert] = resolved["alerts"]
    assert alert["startsAt"] == started.isoformat()
    assert alert["endsAt"] == bench.clock().isoformat()
    assert alert["labels"]["team"] == "payments"
    assert alert["summary"] == "提现失败率 1.0% > 10%"


def test_hysteresis_stops_a_value_flapping_around_the_threshold_from_paging_again(
    bench: Bench,
) -> None:
    for value in (0.11, 0.09, 0.12, 0.08, 0.11, 0.07):  # around 10%, never under 5%
        bench.set("failure_rate", value)
        bench.tick()
    assert [told(m) for m in bench.notifications()] == [[("spike", "firing")]]
    assert bench.state()["state"] == "recovering"
    bench.set("failure_rate", 0.04)
    bench.tick()
    assert [m["status"] for m in bench.notifications()] == ["firing", "resolved"]


def test_without_hysteresis_the_same_flapping_pages_every_time(bench: Bench) -> None:
    bench.service.configure(settings_with([{**SPIKE, "recovery": None}]))
    for value in (0.11, 0.09, 0.12, 0.08):
        bench.set("failure_rate", value)
        bench.tick()
    assert [m["status"] for m in bench.notifications()] == [
        "firing",
        "resolved",
        "firing",
        "resolved",
    ]


def test_a_pending_alert_is_not_notified_until_it_fires(bench: Bench) -> None:
    bench.service.configure(settings_with([{**SPIKE, "for": "5m"}]))
    bench.set("failure_rate", 0.3)
    for _ in range(5):  # pending from the first breach, 4 minutes
        bench.tick()
    assert bench.notifications() == []
    bench.tick()  # 5 minutes
    assert [m["status"] for m in bench.notifications()] == ["firing"]


def test_keep_firing_for_delays_the_resolved_notification(bench: Bench) -> None:
    bench.service.configure(settings_with([{**SPIKE, "keep_firing_for": "10m"}]))
    bench.set("failure_rate", 0.3)
    bench.tick()
    bench.set("failure_rate", 0.0)
    bench.tick(minutes=9)
    assert bench.state()["state"] == "recovering"
    assert len(bench.notifications()) == 1
    bench.tick(minutes=1)
    assert [m["status"] for m in bench.notifications()] == ["firing", "resolved"]


def test_alerts_sharing_the_group_by_labels_go_out_together(bench: Bench) -> None:
    stopped = {
        "name": "stopped",
        "metric": "deposit_count",
        "window": "10m",
        "condition": "== 0",
        "labels": {"team": "payments"},
    }
    bench.service.configure(settings_with([SPIKE, stopped], group_by=["team"]))
    bench.set("failure_rate", 0.3)
    bench.set("deposit_count", 0)
    bench.tick()
    [message] = bench.notifications()
    assert message["group_key"] == "team=payments"
    assert message["group_labels"] == {"team": "payments"}
    assert sorted(told(message)) == [("spike", "firing"), ("stopped", "firing")]
    bench.set("deposit_count", 5)
    bench.tick()
    resolved = bench.notifications()[1]
    assert told(resolved) == [("spike", "firing"), ("stopped", "resolved")]
    assert resolved["status"] == "firing"  # the group still has a firing alert


def test_a_silenced_alert_changes_state_but_notifies_nothing(bench: Bench) -> None:
    with bench.engine.begin() as conn:
        silence = add_silence(
            conn,
            "spike",
            {"team": "payments"},
            timedelta(hours=2),
            "withdrawal channel maintenance",
            bench.clock(),
        )
    bench.set("failure_rate", 0.3)
    bench.tick()
    assert bench.state()["state"] == "firing" and bench.state()["silenced"] == 1
    assert bench.transitions() == [("normal", "firing")]
    assert bench.notifications() == []
    with bench.engine.begin() as conn:
        assert expire_silence(conn, silence, bench.clock())
    bench.tick()
    assert bench.state()["silenced"] == 0
    assert [told(m) for m in bench.notifications()] == [[("spike", "firing")]]


def test_a_silence_ends_by_itself_and_only_matching_labels_are_silenced(bench: Bench) -> None:
    with bench.engine.begin() as conn:
        add_silence(
            conn, "spike", {"team": "risk"}, timedelta(hours=1), "other team", bench.clock()
        )
        add_silence(conn, "spike", {}, timedelta(minutes=30), "known incident", bench.clock())
    bench.set("failure_rate", 0.3)
    bench.tick(minutes=29)
    assert bench.notifications() == []
    bench.tick(minutes=1)  # the 30 min silence ended; the other one never matched
    assert [m["status"] for m in bench.notifications()] == ["firing"]


def test_a_sink_gets_only_notifications_at_or_above_its_min_severity(
    clock: ManualClock, sqlite_db: str
) -> None:
    sinks = [{"kind": "log"}, {"name": "pager", "kind": "log", "min_severity": "critical"}]
    store = open_store(sqlite_db, clock)
    try:
        warning = {**SPIKE, "name": "warn", "severity": "warning"}
        bench = Bench(store, settings_with([SPIKE, warning], sinks=sinks), clock)
        bench.set("failure_rate", 0.3)
        bench.tick()
        by_message = {}
        for delivery in bench.deliveries():
            by_message.setdefault(delivery["outbox_id"], []).append(delivery["sink"])
        messages = {m["id"]: told(m)[0][0] for m in bench.notifications()}
        assert {messages[k]: v for k, v in by_message.items()} == {
            "spike": ["log", "pager"],
            "warn": ["log"],
        }
    finally:
        store.engine.dispose()


def test_a_restarted_ingest_does_not_resend_what_a_sink_accepted(
    any_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    store = open_store(any_db, clock)
    try:
        bench = Bench(store, settings_with([SPIKE]), clock)
        bench.set("failure_rate", 0.3)
        bench.tick()
        assert bench.service.drain() == 1
        bench.restart(settings_with([SPIKE]))
        bench.tick()
        assert bench.service.drain() == 0
        assert len(logged(caplog)) == 1
        assert len(bench.notifications()) == 1
    finally:
        store.engine.dispose()


def test_a_notification_queued_before_a_crash_is_sent_once_after_the_restart(
    any_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    store = open_store(any_db, clock)
    try:
        bench = Bench(store, settings_with([SPIKE]), clock)
        bench.set("failure_rate", 0.3)
        bench.tick()  # queued in the outbox with the transition; the process dies here
        bench.restart(settings_with([SPIKE]))
        bench.tick()
        assert bench.service.drain() == 1
        assert bench.service.drain() == 0
        [message] = logged(caplog)
        assert message["notification_id"] == bench.notifications()[0]["id"]
        assert [d["state"] for d in bench.deliveries()] == ["sent"]
    finally:
        store.engine.dispose()


def test_no_data_pages_only_under_the_alerting_policy(bench: Bench) -> None:
    bench.tick()  # policy ok: no data is not an incident
    assert bench.state()["state"] == "no_data" and bench.notifications() == []
    bench.service.configure(settings_with([{**SPIKE, "no_data": "alerting"}]))
    bench.tick()
    [message] = bench.notifications()
    assert message["alerts"][0]["value"] is None
    assert message["alerts"][0]["summary"] == (
        "spike: failure_rate over 15m is no data (> 0.1 (recovers at 0.05))"
    )
