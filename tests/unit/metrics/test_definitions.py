"""Metric declarations are checked against the domain's events when the config loads;
every refusal names the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config_loader import ConfigError, load_settings, parse_settings
from ingest.metrics.definitions import (
    METRIC_KINDS,
    CumulativeMetric,
    DurationMetric,
    EventMetric,
    RatioMetric,
)

VALID = """\
metrics:
  - name: deposits
    unit: CNY
    kind: sum
    events: [FundsDeposited]
    field: amount
    by: channel
  - name: aum
    kind: cumulative
    deltas:
      - {event: FundsDeposited, field: amount, sign: 1}
"""


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as refused:
        parse_settings(text, Path("x.yaml"))
    assert len(refused.value.problems) == 1, refused.value.problems
    return refused.value.problems[0]


SHIPPED = Path(__file__).resolve().parents[3] / "config.yaml"


def test_the_shipped_config_loads_with_every_kind_but_min_and_max() -> None:
    settings = load_settings(SHIPPED)
    kinds = {metric.kind for metric in settings.metrics}
    assert kinds >= set(METRIC_KINDS) - {"min", "max"}  # min/max: see docs/metrics.md
    assert len({m.name for m in settings.metrics}) == len(settings.metrics)


def test_a_valid_declaration_loads_as_its_kind() -> None:
    text = VALID + (
        "  - name: rate\n    kind: ratio\n    numerator: deposits\n    denominator: deposits\n"
        "  - name: settle\n    kind: duration\n"
        "    start: {event: WithdrawalRequested, key: withdrawal_id}\n"
        "    end: {event: WithdrawalCompleted, key: withdrawal_id}\n"
    )
    metrics = parse_settings(text, Path("x.yaml")).metrics
    assert [type(m) for m in metrics] == [
        EventMetric,
        CumulativeMetric,
        RatioMetric,
        DurationMetric,
    ]
    assert metrics[0].title == "deposits" and metrics[0].unit == "CNY"
    assert isinstance(metrics[3], DurationMetric) and metrics[3].q == 0.95


@pytest.mark.parametrize(
    ("addition", "expected"),
    [
        pytest.param(
            "  - name: bad\n    kind: count\n    events: [FundsDeposited, LoanAproved]\n",
            "x.yaml:14: metrics.2.events.1: unknown event type 'LoanAproved' (known: ",
            id="unknown event type",
        ),
        pytest.param(
            "  - name: bad\n    kind: sum\n    events: [FundsDeposited]\n    field: amout\n",
            "x.yaml:15: metrics.2.field: field 'amout' is not a field of FundsDeposited "
            "(fields: amount, channel, currency, user_id)",
            id="unknown field",
        ),
        pytest.param(
            "  - name: bad\n    kind: count\n    events: [FundsDeposited]\n"
            "    where:\n      currency: CNY\n      chanel: alipay\n",
            "x.yaml:17: metrics.2.where.chanel: `where` key 'chanel' is not a field of "
            "FundsDeposited",
            id="where key not a field",
        ),
        pytest.param(
            "  - name: bad\n    kind: count\n    events: [FundsDeposited]\n    by: product\n",
            "x.yaml:15: metrics.2.by: `by` dimension 'product' is not a field of FundsDeposited",
            id="by not a field",
        ),
        pytest.param(
            "  - name: bad\n    kind: count\n    events: [LoanApproved, LoanRejected]\n"
            "    by: amount\n",
            "x.yaml:15: metrics.2.by: `by` dimension 'amount' is not a field of LoanRejected",
            id="by not a field of every event type",
        ),
        pytest.param(
            "  - name: bad\n    kind: sum\n    events: [FundsDeposited]\n",
            "x.yaml:12: metrics.2.field: kind sum needs `field`",
            id="sum without field",
        ),
        pytest.param(
            "  - name: bad\n    kind: count\n    events: [FundsDeposited]\n    field: amount\n",
            "x.yaml:15: metrics.2.field: kind count takes no `field`",
            id="count with a field",
        ),
        pytest.param(
            "  - name: bad\n    kind: quantile\n    events: [RepaymentOverdue]\n"
            "    field: days_past_due\n    q: 1.5\n",
            "x.yaml:16: metrics.2.q: Input should be less than 1",
            id="q above 1",
        ),
        pytest.param(
            "  - name: bad\n    kind: quantile\n    events: [RepaymentOverdue]\n"
            "    field: days_past_due\n    q: 0\n",
            "x.yaml:16: metrics.2.q: Input should be greater than 0",
            id="q of 0",
        ),
        pytest.param(
            "  - name: bad\n    kind: quantile\n    events: [RepaymentOverdue]\n"
            "    field: days_past_due\n",
            "x.yaml:12: metrics.2.q: `q` (0 < q < 1) goes with kind quantile",
            id="quantile without q",
        ),
        pytest.param(
            "  - name: bad\n    kind: ratio\n    numerator: deposits\n    denominator: deposts\n",
            "x.yaml:15: metrics.2.denominator: ratio bad: unknown metric 'deposts'",
            id="ratio of an unknown metric",
        ),
        pytest.param(
            "  - name: bad\n    kind: difference\n    minuend: aum\n    subtrahend: deposits\n",
            "x.yaml:15: metrics.2.subtrahend: difference bad: combine two window sums or two "
            "cumulative levels, not one of each",
            id="difference mixing a level and a sum",
        ),
        pytest.param(
            "  - name: bad\n    kind: ratio\n    numerator: deposits\n    denominator: aum\n",
            "x.yaml:15: metrics.2.denominator: ratio bad: combine two window sums or two "
            "cumulative levels",
            id="ratio mixing a sum and a level",
        ),
        pytest.param(
            "  - name: p95\n    kind: quantile\n    events: [RepaymentOverdue]\n"
            "    field: days_past_due\n    q: 0.95\n"
            "  - name: bad\n    kind: ratio\n    numerator: p95\n    denominator: deposits\n",
            "x.yaml:19: metrics.3.numerator: ratio bad: 'p95' must be a count, sum or cumulative",
            id="ratio of a quantile",
        ),
        pytest.param(
            "  - name: deposits\n    kind: count\n    events: [FundsDeposited]\n",
            "x.yaml:12: metrics.2.name: metric names must be unique: deposits",
            id="duplicate name",
        ),
        pytest.param(
            "  - name: bad\n    kind: median\n    events: [FundsDeposited]\n    field: amount\n",
            "x.yaml:13: metrics.2.kind: unknown kind 'median' (kinds: count, sum, avg, min, max, "
            "distinct, quantile, ratio, difference, duration, cumulative)",
            id="bad kind",
        ),
        pytest.param(
            "  - name: bad\n    events: [FundsDeposited]\n",
            "x.yaml:12: metrics.2.kind: missing (kinds: count, sum",
            id="no kind",
        ),
        pytest.param(
            "  - name: Bad-Name\n    kind: count\n    events: [FundsDeposited]\n",
            "x.yaml:12: metrics.2.name: String should match pattern",
            id="bad name",
        ),
        pytest.param(
            "  - name: bad\n    kind: count\n    events: [FundsDeposited]\n    colour: red\n",
            "x.yaml:15: metrics.2.colour: Extra inputs are not permitted",
            id="unknown key",
        ),
        pytest.param(
            "  - name: bad\n    kind: cumulative\n    deltas:\n"
            "      - {event: LoanDisbursed, field: amount}\n"
            "      - {event: RepaymentReceived, field: principle, sign: -1}\n",
            "x.yaml:16: metrics.2.deltas.1.field: field 'principle' is not a field of "
            "RepaymentReceived",
            id="cumulative delta field",
        ),
        pytest.param(
            "  - name: bad\n    kind: cumulative\n    deltas:\n"
            "      - {event: LoanDisbursed, field: amount, sign: 2}\n",
            "x.yaml:15: metrics.2.deltas.0.sign: Input should be 1 or -1",
            id="cumulative delta sign",
        ),
        pytest.param(
            "  - name: bad\n    kind: duration\n"
            "    start: {event: WithdrawalRequested, key: withdrawal_id}\n"
            "    end: {event: WithdrawalComplete, key: withdrawal_id}\n",
            "x.yaml:15: metrics.2.end.event: unknown event type 'WithdrawalComplete'",
            id="duration end event",
        ),
        pytest.param(
            "  - name: bad\n    kind: duration\n"
            "    start: {event: WithdrawalRequested, key: withdrawl_id}\n"
            "    end: {event: WithdrawalCompleted, key: withdrawal_id}\n",
            "x.yaml:14: metrics.2.start.key: key 'withdrawl_id' is not a field of "
            "WithdrawalRequested",
            id="duration key",
        ),
    ],
)
def test_an_invalid_declaration_is_refused_naming_file_line_and_key(
    addition: str, expected: str
) -> None:
    assert refusal(VALID + addition).startswith(expected)


def test_the_error_shows_as_the_cli_prints_it() -> None:
    text = VALID + "  - name: bad\n    kind: sum\n    events: [FundsDeposited]\n    field: amout\n"
    with pytest.raises(ConfigError) as refused:
        parse_settings(text, Path("config.yaml"))
    assert str(refused.value) == (
        "invalid configuration config.yaml:\n"
        "  config.yaml:15: metrics.2.field: field 'amout' is not a field of FundsDeposited "
        "(fields: amount, channel, currency, user_id)"
    )


def test_metrics_survive_a_round_trip_through_model_dump() -> None:
    settings = load_settings(SHIPPED)
    dumped = settings.model_dump(mode="json", include={"metrics"})
    assert type(settings).model_validate(dumped).metrics == settings.metrics
