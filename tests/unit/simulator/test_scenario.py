from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.simulator.scenario import (
    DEFAULT_BACKFILL_RATE,
    Incident,
    Scenario,
    ScenarioError,
    parse_duration,
    parse_incident,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("250ms", timedelta(milliseconds=250)),
        ("0", timedelta(0)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_durations_read_as_a_number_and_a_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "5x", "-5m", "1h 30m", "m10"])
def test_a_malformed_duration_is_refused_with_an_example_of_the_format(text):
    with pytest.raises(ScenarioError, match=r"not a duration.*e\.g\. 30s, 10m, 2h, 7d"):
        parse_duration(text, "--duration")


def test_a_relative_incident_starts_after_the_live_start():
    incident = parse_incident("payment-outage@+5m:10m")
    assert incident == Incident(
        "payment-outage", timedelta(minutes=10), offset=timedelta(minutes=5), channel="alipay"
    )
    run_start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    live_start = run_start + timedelta(minutes=3)
    assert incident.start(run_start, None) is None  # not placed before the live phase
    assert incident.start(run_start, live_start) == live_start + timedelta(minutes=5)


def test_a_negative_start_counts_back_from_the_run_start():
    incident = parse_incident("marketing-campaign@-1d:2h")
    run_start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert incident.channel is None
    assert incident.start(run_start, None) == run_start - timedelta(days=1)


def test_an_absolute_start_may_carry_an_offset_or_mean_business_time():
    with_offset = parse_incident("payment-outage@2024-05-01T10:00:00+08:00:30m")
    naive = parse_incident("payment-outage@2024-05-01T10:00:00:30m", SHANGHAI)
    assert with_offset.at == naive.at == datetime(2024, 5, 1, 2, tzinfo=UTC)
    assert with_offset.length == timedelta(minutes=30)
    assert parse_incident("payment-outage@2024-05-01T02:00:00Z:1h").at == with_offset.at


def test_an_outage_may_name_its_payment_channel():
    assert parse_incident("payment-outage:wechat_pay@+1m:5m").channel == "wechat_pay"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("payment-outage", "must look like KIND@START:LENGTH"),
        ("payment-outage@+5m", "must look like KIND@START:LENGTH"),
        ("earthquake@+5m:10m", "unknown incident kind 'earthquake'"),
        ("payment-outage@+5m:forever", "is not a duration"),
        ("payment-outage@+5m:0", "must last longer than 0"),
        ("payment-outage@yesterday:1h", "neither \\+DURATION, -DURATION nor an ISO time"),
        ("payment-outage:paypal@+1m:5m", "only payment-outage takes a channel"),
        ("marketing-campaign:alipay@+1m:5m", "only payment-outage takes a channel"),
    ],
)
def test_a_malformed_incident_is_refused_with_a_clear_message(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_incident(text)


def test_rates_and_the_installment_period_must_be_positive():
    with pytest.raises(ScenarioError, match="rate must be positive"):
        Scenario(seed=1, rate=0)
    with pytest.raises(ScenarioError, match="backfill-rate must be positive"):
        Scenario(seed=1, backfill_rate=-1)
    with pytest.raises(ScenarioError, match="installment-every must be longer than 0"):
        Scenario(seed=1, installment_every=timedelta(0))


def test_the_default_backfill_density_makes_about_200k_events_a_week():
    assert pytest.approx(200_000) == DEFAULT_BACKFILL_RATE * 7 * 86400
