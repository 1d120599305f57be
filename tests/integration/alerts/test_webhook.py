"""The webhook sink against a real HTTP receiver on 127.0.0.1: the JSON it posts, retries
with back-off on the manual clock, and a receiver that hangs stalls nothing else."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ingest.alerts.notify import build_sinks
from ingest.alerts.section import SinkSettings
from tests.clock import ManualClock
from tests.integration.alerts.bench import SPIKE, Bench, settings_with
from tests.integration.alerts.conftest import Receiver, open_store

HOOK = {"name": "hook", "kind": "webhook", "url_env": "HOOK_URL", "timeout_s": 0.5,
        "retries": 2, "backoff_s": 2}  # fmt: skip


@pytest.fixture
def hooked(sqlite_db: str, clock: ManualClock, receiver: Receiver) -> Iterator[Bench]:
    store = open_store(sqlite_db, clock)
    try:
        settings = settings_with([SPIKE], sinks=[{"kind": "log"}, HOOK])
        yield Bench(store, settings, clock, environ={"HOOK_URL": receiver.url})
    finally:
        store.engine.dispose()


def hook_deliveries(bench: Bench) -> list[tuple[str, int]]:
    return [(d["state"], d["attempts"]) for d in bench.deliveries() if d["sink"] == "hook"]


def test_the_webhook_posts_every_alert_with_labels_state_value_threshold_and_times(
    hooked: Bench, receiver: Receiver
) -> None:
    hooked.set("failure_rate", 0.25)
    hooked.tick()
    started = hooked.clock()
    assert hooked.service.drain() == 2  # the log line and the webhook
    [body] = receiver.received
    assert body["status"] == "firing" and body["group_key"] == "alertname=spike"
    [alert] = body["alerts"]
    assert alert["labels"] == {"alertname": "spike", "severity": "critical",
                               "metric": "failure_rate", "team": "payments"}  # fmt: skip
    assert (alert["state"], alert["value"], alert["threshold"]) == ("firing", 0.25, 0.1)
    assert alert["summary"] == "提现失败率 25.0% > 10%"
    assert (alert["startsAt"], alert["endsAt"]) == (started.isoformat(), None)
    assert receiver.headers[0]["Idempotency-Key"] == str(body["notification_id"])
    hooked.set("failure_rate", 0.0)
    hooked.tick()
    hooked.service.drain()
    resolved = receiver.received[1]["alerts"][0]
    assert resolved["status"] == "resolved" and resolved["endsAt"] == hooked.clock().isoformat()


def test_a_failing_receiver_is_retried_with_back_off_and_sent_once_accepted(
    hooked: Bench, receiver: Receiver
) -> None:
    receiver.fail = 2
    hooked.set("failure_rate", 0.25)
    hooked.tick()
    assert hooked.service.drain() == 1  # the log sink; the webhook answered 500
    assert hook_deliveries(hooked) == [("pending", 1)]
    assert hooked.service.drain() == 0  # not due before its back-off
    assert len(receiver.received) == 1
    hooked.clock.advance(timedelta(seconds=2))
    hooked.service.drain()
    assert hook_deliveries(hooked) == [("pending", 2)]
    hooked.clock.advance(timedelta(seconds=3))  # the second back-off is 4 s
    assert hooked.service.drain() == 0
    hooked.clock.advance(timedelta(seconds=1))
    assert hooked.service.drain() == 1
    assert hook_deliveries(hooked) == [("sent", 3)]
    assert len(receiver.received) == 3
    hooked.restart(settings_with([SPIKE], sinks=[{"kind": "log"}, HOOK]))
    hooked.tick()
    assert hooked.service.drain() == 0
    assert len(receiver.received) == 3


def test_a_receiver_failing_past_the_retries_is_given_up_and_the_queue_moves_on(
    hooked: Bench, receiver: Receiver
) -> None:
    receiver.fail = 3
    hooked.set("failure_rate", 0.25)
    hooked.tick()
    hooked.set("failure_rate", 0.0)
    hooked.tick()  # a resolved notification waits behind the firing one
    for _ in range(3):
        hooked.service.drain()
        hooked.clock.advance(timedelta(seconds=10))
    assert hook_deliveries(hooked) == [("failed", 3), ("pending", 0)]
    hooked.service.drain()
    assert hook_deliveries(hooked) == [("failed", 3), ("sent", 1)]
    assert receiver.received[-1]["status"] == "resolved"


def test_a_hanging_receiver_stalls_neither_evaluation_nor_the_log_sink(
    hooked: Bench, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ledgerlens.alerts")
    slow = {**HOOK, "timeout_s": 2.5}  # one webhook attempt blocks its sender for 2.5 s
    hooked.service.configure(settings_with([SPIKE], sinks=[{"kind": "log"}, slow]))
    receiver.delay = 5.0  # far beyond that timeout
    stop = threading.Event()
    hooked.set("failure_rate", 0.25)
    hooked.service.interval = 3600  # one tick at the start, the next one by hand
    began = time.monotonic()
    hooked.service.start(stop)
    try:
        while hooked.service.last_tick is None and time.monotonic() - began < 5:
            time.sleep(0.01)
        hooked.set("failure_rate", 0.0)
        hooked.tick()
        assert time.monotonic() - began < 1.5, "evaluation went on"
        while len(notification_lines(caplog)) < 2 and time.monotonic() - began < 5:
            time.sleep(0.01)
        assert [json.loads(line)["status"] for line in notification_lines(caplog)] == [
            "firing",
            "resolved",
        ]
        assert time.monotonic() - began < 1.5, "the log sink did not wait for the webhook"
        while hook_deliveries(hooked)[0][1] == 0 and time.monotonic() - began < 8:
            time.sleep(0.05)
        [first, second] = [d for d in hooked.deliveries() if d["sink"] == "hook"]
        assert (first["state"], first["attempts"]) == ("pending", 1)
        assert "timed out" in first["last_error"]
        assert (second["state"], second["attempts"]) == ("pending", 0)
    finally:
        stop.set()
        hooked.service.join(timeout=10)


def notification_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ledgerlens.alerts"]


def test_a_sink_without_its_url_is_not_run_and_says_why() -> None:
    hook = SinkSettings(kind="webhook", name="hook", url_env="HOOK_URL")
    sinks, problems = build_sinks([SinkSettings(kind="log"), hook], {})
    assert [s.name for s in sinks] == ["log"]
    assert problems == ["sink hook: $HOOK_URL is not set; it sends nothing"]
    sinks, problems = build_sinks([hook], {"HOOK_URL": "file:///etc/passwd"})
    assert sinks == [] and "http:// or https://" in problems[0]


def test_an_apprise_sink_without_apprise_installed_says_how_to_get_it() -> None:
    try:
        import apprise  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        sink = SinkSettings(kind="apprise", name="chat", url_env="CHAT_URLS")
        sinks, problems = build_sinks([sink], {"CHAT_URLS": "dingtalk://token/"})
        assert sinks == []
        assert "pip install apprise" in problems[0]
    else:
        pytest.skip("apprise is installed here")
