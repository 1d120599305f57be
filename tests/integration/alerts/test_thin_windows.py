"""A ratio over a handful of cases is noise: with ``min_denominator`` a window whose
denominator is smaller is *no data*, not a breach (2 failed of 17 withdrawal requests at
4 a.m. is 11.8%, above a 10% threshold, and pages nobody)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.settings import Settings
from tests.clock import ManualClock
from tests.integration.alerts.bench import METRICS, SPIKE, Bench, settings_with
from tests.integration.alerts.conftest import open_store

RISE = {"name": "rise", "metric": "failure_rate", "window": "15m", "condition": "rise > 100%",
        "compare": "previous_period", "min_denominator": 50}  # fmt: skip


@pytest.fixture
def guarded(sqlite_db: str, clock: ManualClock) -> Iterator[Bench]:
    store = open_store(sqlite_db, clock)
    try:
        yield Bench(store, settings_with([{**SPIKE, "min_denominator": 50}, RISE]), clock)
    finally:
        store.engine.dispose()


def test_a_high_rate_over_too_few_requests_is_no_data_and_pages_nobody(guarded: Bench) -> None:
    guarded.set("failure_rate", 2 / 17)
    guarded.set("requested", 17)
    guarded.tick()
    state = guarded.state("spike")
    assert state["state"] == "no_data"
    assert state["detail"] == (
        "too few to judge: requested is 17 in the window, under min_denominator 50"
    )
    assert guarded.notifications() == []


def test_the_same_rate_over_enough_requests_fires(guarded: Bench) -> None:
    guarded.set("failure_rate", 2 / 17)
    guarded.set("requested", 17)
    guarded.tick()
    guarded.set("requested", 170)
    guarded.tick()
    assert guarded.state("spike")["state"] == "firing"
    assert guarded.transitions("spike") == [("normal", "no_data"), ("no_data", "firing")]
    assert len(guarded.notifications()) == 1


def test_a_window_without_any_request_is_no_data(guarded: Bench) -> None:
    guarded.set("failure_rate", 0.5)
    guarded.tick()
    assert guarded.state("spike")["detail"] == (
        "too few to judge: requested is nothing in the window, under min_denominator 50"
    )


def test_a_change_needs_enough_cases_in_the_base_window_too(guarded: Bench) -> None:
    guarded.set("failure_rate", 0.3)
    guarded.set("requested", 40)
    guarded.tick(minutes=16)
    guarded.set("requested", 400)  # the current window has enough; the previous one had 40
    guarded.tick()
    state = guarded.state("rise")
    assert state["state"] == "no_data"
    assert state["detail"] == (
        "too few to judge: requested is 40 in the base window, under min_denominator 50"
    )


SETTLEMENT = {"name": "settlement_p95", "kind": "duration", "q": 0.95,
              "start": {"event": "WithdrawalRequested", "key": "withdrawal_id"},
              "end": {"event": "WithdrawalCompleted", "key": "withdrawal_id"}}  # fmt: skip
SLOW = {"name": "slow", "metric": "settlement_p95", "window": "1h", "condition": "> 3600",
        "min_samples": 10}  # fmt: skip


@pytest.fixture
def sampled(sqlite_db: str, clock: ManualClock) -> Iterator[Bench]:
    store = open_store(sqlite_db, clock)
    settings = Settings.model_validate(
        {"metrics": [*METRICS, SETTLEMENT], "alerts": {"rules": [SLOW]}}
    )
    try:
        yield Bench(store, settings, clock)
    finally:
        store.engine.dispose()


def test_a_p95_over_too_few_samples_is_no_data_and_over_enough_it_fires(sampled: Bench) -> None:
    sampled.set("settlement_p95", 5400)
    sampled.metrics.set_samples("settlement_p95", 3, sampled.clock())
    sampled.tick()
    state = sampled.state("slow")
    assert state["state"] == "no_data"
    assert state["detail"] == (
        "too few to judge: settlement_p95 samples is 3 in the window, under min_samples 10"
    )
    sampled.metrics.set_samples("settlement_p95", 40, sampled.clock())
    sampled.tick()
    assert sampled.state("slow")["state"] == "firing"
    assert len(sampled.notifications()) == 1
