"""Alert rules are validated with the rest of config.yaml: every problem names the file, the
line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.settings import DATABASE_URL_ENV
from ingest.cli import main
from ingest.config_loader import ConfigError, load_settings, parse_settings

FILE = Path("conf.yaml")
SHIPPED = Path(__file__).resolve().parents[3] / "config.yaml"
METRICS = """\
metrics:
  - name: failed
    kind: count
    events: [WithdrawalFailed]
  - name: requested
    kind: count
    events: [WithdrawalRequested]
  - name: failure_rate
    kind: ratio
    numerator: failed
    denominator: requested
  - name: deposit_count
    kind: count
    events: [FundsDeposited]
    by: channel
alerts:
  rules:
"""  # the rule under test starts at line 18


@pytest.fixture(autouse=True)
def _no_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def rule(*lines: str) -> str:
    return METRICS + "".join(
        f"    {'- ' if i == 0 else '  '}{line}\n" for i, line in enumerate(lines)
    )


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, FILE)
    return caught.value.problems


GOOD = ("name: spike", "metric: failure_rate", "window: 15m", 'condition: "> 10%"')


def test_a_rule_loads_with_its_defaults() -> None:
    settings = parse_settings(rule(*GOOD, "recovery: 5%", "for: 5m"), FILE)
    [spike] = settings.alerts.rules
    assert (spike.for_, spike.keep_firing_for, spike.severity, spike.no_data) == (
        300,
        0,
        "warning",
        "ok",
    )
    assert spike.parsed().recovery == pytest.approx(0.05)
    assert settings.alerts.evaluation_interval_s == 10.0
    assert [s.kind for s in settings.alerts.notify.sinks] == ["log"]


def test_an_unknown_metric_is_reported_at_its_line() -> None:
    assert problems(
        rule("name: spike", "metric: failure_ratio", "window: 15m", 'condition: "> 1"')
    ) == [
        "conf.yaml:19: alerts.rules.0.metric: unknown metric 'failure_ratio' (metrics: "
        "deposit_count, failed, failure_rate, requested)"
    ]


def test_a_bad_duration_is_reported_at_its_line() -> None:
    [problem] = problems(rule(*GOOD, "for: 5 min"))
    assert problem.startswith("conf.yaml:22: alerts.rules.0.for: bad duration '5 min'")


def test_a_bad_window_is_reported_at_its_line() -> None:
    [problem] = problems(
        rule("name: spike", "metric: failure_rate", "window: 90s", 'condition: "> 1"')
    )
    assert problem.startswith("conf.yaml:20: alerts.rules.0.window: window '90s' must be whole")


def test_an_unknown_field_is_reported_at_its_line() -> None:
    assert problems(rule(*GOOD, "treshold: 3")) == [
        "conf.yaml:22: alerts.rules.0.treshold: Extra inputs are not permitted"
    ]


def test_an_unknown_template_placeholder_is_reported_at_its_line() -> None:
    [problem] = problems(rule(*GOOD, 'summary: "rate {valeu:.1%}"'))
    assert problem.startswith("conf.yaml:22: alerts.rules.0.summary: unknown placeholder {valeu}")


def test_a_template_format_that_cannot_apply_is_refused() -> None:
    [problem] = problems(
        rule(
            "name: band",
            "metric: failure_rate",
            "window: 15m",
            'condition: "outside [0.1, 0.2]"',
            'summary: "{value:.1%} vs {threshold:.0%}"',
        )
    )
    assert problem.startswith("conf.yaml:22: alerts.rules.0.summary: summary ")
    assert "threshold=(0.1, 0.2)" in problem


def test_a_recovery_on_the_wrong_side_is_reported_at_its_key() -> None:
    assert problems(rule(*GOOD, "recovery: 20%")) == [
        "conf.yaml:22: alerts.rules.0.recovery: recovery 0.2 must be at or below the "
        "threshold 0.1 for '>'"
    ]


def test_a_change_needs_compare_and_a_comparison_refuses_it() -> None:
    [missing] = problems(
        rule("name: d", "metric: deposit_count", "window: 1h", 'condition: "drop > 50%"')
    )
    assert "alerts.rules.0.compare: drop needs `compare`" in missing
    [extra] = problems(rule(*GOOD, "compare: previous_period"))
    assert "alerts.rules.0.compare: `compare` goes with a drop or rise" in extra


def test_a_dim_needs_a_metric_split_by_a_dimension() -> None:
    assert (
        parse_settings(
            rule(
                "name: d",
                "metric: deposit_count",
                "dim: alipay",
                "window: 10m",
                'condition: "== 0"',
            ),
            FILE,
        )
        .alerts.rules[0]
        .dim
        == "alipay"
    )
    [problem] = problems(rule(*GOOD, "dim: alipay"))
    assert problem.startswith("conf.yaml:22: alerts.rules.0.dim: metric 'failure_rate' has no")


def test_min_denominator_goes_with_a_ratio_metric_only() -> None:
    settings = parse_settings(rule(*GOOD, "min_denominator: 50"), FILE)
    assert settings.alerts.rules[0].min_denominator == 50
    counted = ("name: d", "metric: deposit_count", "window: 10m", 'condition: "== 0"')
    [problem] = problems(rule(*counted, "min_denominator: 50"))
    assert problem.startswith(
        "conf.yaml:22: alerts.rules.0.min_denominator: `min_denominator` goes with a rule on "
        "a ratio metric; 'deposit_count' is a count metric"
    )
    [zero] = problems(rule(*GOOD, "min_denominator: 0"))
    assert "alerts.rules.0.min_denominator: " in zero


def test_min_samples_goes_with_a_quantile_or_duration_metric_only() -> None:
    [problem] = problems(rule(*GOOD, "min_samples: 10"))
    assert problem.startswith(
        "conf.yaml:22: alerts.rules.0.min_samples: `min_samples` goes with a rule on a "
        "quantile or duration metric; 'failure_rate' is a ratio metric"
    )


def test_rule_names_are_unique() -> None:
    text = rule(*GOOD) + "".join(
        f"    {'- ' if i == 0 else '  '}{line}\n" for i, line in enumerate(GOOD)
    )
    [problem] = problems(text)
    assert problem.startswith("conf.yaml:22: alerts.rules.1.name: alert rule names must be unique")


def test_reserved_labels_and_bad_hours_are_refused() -> None:
    [label] = problems(rule(*GOOD, "labels: {severity: high}"))
    assert "alerts.rules.0.labels: " in label and "set by LedgerLens" in label
    [hours] = problems(rule(*GOOD, 'active_hours: "9-23"'))
    assert hours.startswith("conf.yaml:22: alerts.rules.0.active_hours: ")


def test_a_webhook_sink_needs_the_name_of_an_environment_variable() -> None:
    text = "alerts:\n  notify:\n    sinks:\n      - kind: webhook\n        timeout_s: 3\n"
    [problem] = problems(text)
    assert problem.startswith("conf.yaml:4: alerts.notify.sinks.0.url_env: a webhook sink needs")


def test_the_shipped_config_declares_the_six_rules_ops_are_paged_for() -> None:
    settings = load_settings(SHIPPED)
    rules = {r.name: r for r in settings.alerts.rules}
    assert set(rules) == {
        "withdrawal_failure_spike",
        "deposits_stopped",
        "deposits_down_vs_yesterday",
        "overdue_rate_high",
        "settlement_slow",
        "registrations_spike",
    }
    stopped = rules["deposits_stopped"]
    assert (stopped.metric, stopped.window, stopped.condition) == ("deposit_count", "10m", "== 0")
    assert stopped.active_hours == "09:00-23:00"
    assert rules["deposits_down_vs_yesterday"].compare == "same_time_yesterday"
    assert rules["withdrawal_failure_spike"].min_denominator == 50  # no 4 a.m. page for 2 of 17
    assert rules["settlement_slow"].min_samples == 20


def test_check_config_refuses_a_bad_rule_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(rule(*GOOD, "for: soon"), encoding="utf-8")
    assert main(["check-config", str(config)]) == 2
    assert f"{config}:22: alerts.rules.0.for: bad duration 'soon'" in capsys.readouterr().err
    config.write_text(rule(*GOOD), encoding="utf-8")
    assert main(["check-config", str(config)]) == 0
    assert "1 alert rules" in capsys.readouterr().out
