from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domain.__main__ import main as domain_main
from domain.simulator.cli import parse_options


def test_options_become_a_scenario(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("business_timezone: Europe/Berlin\n", encoding="utf-8")
    args, scenario = parse_options(
        [
            "--rate",
            "50",
            "--duration",
            "10m",
            "--backfill",
            "7d",
            "--seed",
            "42",
            "--incident",
            "payment-outage@+5m:10m",
            "--incident",
            "marketing-campaign@-1d:2h",
            "--installment-every",
            "2h",
            "--config",
            str(config),
        ]
    )
    assert (args.duration, args.backfill) == (timedelta(minutes=10), timedelta(days=7))
    assert (scenario.seed, scenario.rate, scenario.timezone.key) == (42, 50.0, "Europe/Berlin")
    assert scenario.installment_every == timedelta(hours=2)
    assert [i.kind for i in scenario.incidents] == ["payment-outage", "marketing-campaign"]


def test_without_options_it_runs_live_forever_with_a_random_seed(tmp_path: Path):
    args, scenario = parse_options(["--config", str(tmp_path / "absent.yaml")])
    assert args.duration is None and args.backfill is None
    assert scenario.rate == 20 and scenario.timezone.key == "Asia/Shanghai"
    assert scenario.installment_every == timedelta(days=1)
    assert isinstance(scenario.seed, int)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--duration", "soon"], "--duration 'soon' is not a duration"),
        (["--incident", "payment-outage@+5m"], "must look like KIND@START:LENGTH"),
        (["--rate", "0"], "rate must be positive"),
        (["--chunk", "0"], "--chunk must be at least 1"),
    ],
)
def test_bad_options_stop_with_a_clear_message(argv, message, capsys, tmp_path: Path):
    with pytest.raises(SystemExit) as stopped:
        parse_options([*argv, "--config", str(tmp_path / "absent.yaml")])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unknown_business_timezone_is_reported(capsys, tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("business_timezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        parse_options(["--config", str(config)])
    assert "business_timezone 'Mars/Olympus' is not a time zone" in capsys.readouterr().err


def test_python_m_domain_names_its_commands(capsys):
    assert domain_main(["frobnicate"]) == 2
    assert "python -m domain simulate" in capsys.readouterr().err
