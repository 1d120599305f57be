"""Which moments a round evaluates a rule at: every minute it missed, then the round's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.alerts.evaluator import AlertStatus
from ingest.alerts.freshness import Moment
from ingest.alerts.rules import AlertRule
from ingest.alerts.storage import AlertRecord
from ingest.alerts.tick import MAX_CATCH_UP, catch_up_steps

NOW = datetime(2024, 1, 15, 2, 0, 30, tzinfo=UTC)
RULE = AlertRule.model_validate(
    {"name": "spike", "metric": "failure_rate", "window": "15m", "condition": "> 10%"}
)


def evaluated(at: datetime, rule: AlertRule = RULE) -> AlertRecord:
    status = AlertStatus(rule.name, evaluated_at=at)
    return AlertRecord(status, rule.identity(), {}, 0.1, "")


def fresh(at: datetime = NOW) -> Moment:
    return Moment(at, False, 0.0, at)


def test_a_rule_evaluated_within_the_last_minute_is_evaluated_once_at_the_moment() -> None:
    steps = catch_up_steps(evaluated(NOW - timedelta(seconds=50)), RULE, fresh())
    assert steps == [(NOW, False)]


def test_a_rule_never_evaluated_is_evaluated_once_at_the_moment() -> None:
    assert catch_up_steps(None, RULE, fresh()) == [(NOW, False)]


def test_every_missed_minute_is_evaluated_stale_and_oldest_first_before_the_moment() -> None:
    steps = catch_up_steps(evaluated(NOW - timedelta(minutes=3, seconds=10)), RULE, fresh())
    assert steps == [
        (NOW - timedelta(minutes=3), True),
        (NOW - timedelta(minutes=2), True),
        (NOW - timedelta(minutes=1), True),
        (NOW, False),
    ]


def test_a_stale_round_catches_up_with_stale_evaluations_only() -> None:
    at = NOW - timedelta(hours=1)
    steps = catch_up_steps(evaluated(at - timedelta(minutes=2)), RULE, Moment(at, True, 3600, at))
    assert steps == [(at - timedelta(minutes=1), True), (at, True)]


def test_at_most_the_last_day_of_missed_minutes_is_caught_up_in_one_round() -> None:
    steps = catch_up_steps(evaluated(NOW - timedelta(days=3)), RULE, fresh())
    assert len(steps) == MAX_CATCH_UP + 1
    assert steps[0] == (NOW - timedelta(minutes=MAX_CATCH_UP), True)
    assert steps[-1] == (NOW, False)


def test_a_rule_evaluated_at_or_after_the_moment_is_not_evaluated_again() -> None:
    assert catch_up_steps(evaluated(NOW), RULE, Moment(NOW, True, 3600, NOW)) == []
    assert catch_up_steps(evaluated(NOW + timedelta(seconds=5)), RULE, fresh()) == []


def test_a_rule_that_now_watches_another_series_starts_at_the_moment() -> None:
    other = AlertRule.model_validate(
        {"name": "spike", "metric": "failure_rate", "window": "30m", "condition": "> 10%"}
    )
    steps = catch_up_steps(evaluated(NOW - timedelta(hours=1), other), RULE, fresh())
    assert steps == [(NOW, False)]


def test_nothing_is_evaluated_before_the_metrics_have_processed_anything() -> None:
    nothing_yet = Moment(None, False, 0.0, None)
    assert catch_up_steps(evaluated(NOW - timedelta(hours=1)), RULE, nothing_yet) == []
