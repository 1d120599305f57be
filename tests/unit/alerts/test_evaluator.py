"""Every transition of an alert's state machine, driven by a manual clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.alerts.conditions import Outcome
from ingest.alerts.evaluator import AlertStatus, Evaluation, advance
from tests.clock import ManualClock

B, BAND, C = Outcome.BREACH, Outcome.BAND, Outcome.CLEAR
MINUTE = timedelta(minutes=1)


class Alert:
    """One rule's alert, evaluated once a minute on a manual clock."""

    def __init__(
        self, *, pending_for: int = 0, keep_firing_for: int = 0, no_data: str = "ok"
    ) -> None:
        self.clock = ManualClock()
        self.status = AlertStatus("rule")
        self.options = {
            "pending_for": pending_for,
            "keep_firing_for": keep_firing_for,
            "no_data": no_data,
        }

    def see(self, *outcomes: Outcome, value: float | None = 1.0) -> list[str]:
        states = []
        for outcome in outcomes:
            self.clock.advance(MINUTE)
            evaluation = Evaluation(outcome, self.clock(), value, detail=outcome.value)
            self.status = advance(self.status, evaluation, **self.options)
            states.append(self.status.state)
        return states


def test_a_breach_fires_at_once_without_a_pending_period() -> None:
    alert = Alert()
    assert alert.see(C, B) == ["normal", "firing"]
    assert alert.status.active_since == alert.clock()


def test_for_keeps_an_alert_pending_until_the_breach_lasted_that_long() -> None:
    alert = Alert(pending_for=180)
    assert alert.see(B, B, B, B) == ["pending", "pending", "pending", "firing"]
    assert alert.status.active_since == alert.clock()
    assert alert.status.pending_since is None


def test_a_pending_alert_that_stops_breaching_returns_to_normal_and_starts_over() -> None:
    alert = Alert(pending_for=120)
    assert alert.see(B, B, C, B, B) == ["pending", "pending", "normal", "pending", "pending"]
    assert alert.see(B) == ["firing"]


def test_clear_resolves_a_firing_alert_without_keep_firing_for() -> None:
    alert = Alert()
    assert alert.see(B, C) == ["firing", "normal"]
    assert alert.status.active_since is None


def test_keep_firing_for_holds_a_cleared_alert_recovering_then_resolves_it() -> None:
    alert = Alert(keep_firing_for=180)
    assert alert.see(B, C, C) == ["firing", "recovering", "recovering"]
    assert alert.status.active
    assert alert.see(C) == ["normal"]  # three minutes after the last breach
    assert not alert.status.active


def test_a_breach_while_recovering_fires_again_without_a_new_start() -> None:
    alert = Alert(keep_firing_for=600)
    alert.see(B)
    started = alert.status.active_since
    assert alert.see(C, B) == ["recovering", "firing"]
    assert alert.status.active_since == started


def test_flapping_around_the_threshold_stays_active_with_hysteresis() -> None:
    alert = Alert()
    states = alert.see(B, BAND, B, BAND, B, BAND)
    assert states == ["firing", "recovering"] * 3
    assert alert.status.active  # never resolved, so never re-fired
    assert alert.see(C) == ["normal"]


def test_flapping_without_hysteresis_resolves_and_fires_every_time() -> None:
    alert = Alert()
    assert alert.see(B, C, B, C) == ["firing", "normal", "firing", "normal"]


def test_the_band_after_keep_firing_for_still_holds_the_alert_recovering() -> None:
    alert = Alert(keep_firing_for=60)
    assert alert.see(B, BAND, BAND, BAND) == ["firing", "recovering", "recovering", "recovering"]


def test_the_band_of_a_normal_alert_is_normal() -> None:
    assert Alert().see(BAND, BAND) == ["normal", "normal"]


def test_no_data_with_policy_ok_resolves_and_shows_no_data() -> None:
    alert = Alert(no_data="ok")
    assert alert.see(B, Outcome.NO_DATA, value=None) == ["firing", "no_data"]
    assert not alert.status.active
    assert alert.see(B) == ["firing"]


def test_no_data_with_policy_alerting_is_a_breach_with_its_pending_period() -> None:
    alert = Alert(no_data="alerting", pending_for=60)
    assert alert.see(Outcome.NO_DATA, Outcome.NO_DATA, value=None) == ["pending", "firing"]
    assert alert.status.value is None


def test_no_data_with_policy_keep_last_changes_nothing_but_the_value() -> None:
    alert = Alert(no_data="keep_last", pending_for=60)
    alert.see(B)
    pending = alert.status
    assert alert.see(Outcome.NO_DATA, Outcome.NO_DATA, value=None) == ["pending", "pending"]
    assert alert.status.pending_since == pending.pending_since
    assert alert.status.since == pending.since


def test_an_error_keeps_every_timer_and_the_alert_active() -> None:
    alert = Alert(keep_firing_for=60)
    alert.see(B)
    started = alert.status.active_since
    assert alert.see(Outcome.ERROR, Outcome.ERROR) == ["error", "error"]
    assert alert.status.active_since == started
    assert alert.see(B) == ["firing"]
    assert alert.status.active_since == started


def test_outside_active_hours_counts_as_clear() -> None:
    alert = Alert()
    assert alert.see(B, Outcome.INACTIVE) == ["firing", "normal"]


@pytest.mark.parametrize("outcome", [B, C, Outcome.NO_DATA])
def test_since_moves_only_when_the_state_changes(outcome: Outcome) -> None:
    alert = Alert(no_data="keep_last")
    alert.see(C)
    first = alert.status.since
    alert.see(C)
    assert alert.status.since == first
    alert.see(outcome)
    changed = alert.status.state != "normal"
    assert (alert.status.since != first) is changed
