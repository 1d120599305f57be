"""`python -m ingest silence add|list|expire` and `python -m ingest alerts`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.cli import main
from ingest.settings import Settings
from tests.clock import ManualClock
from tests.integration.alerts.bench import METRICS, SPIKE, Bench
from tests.integration.alerts.conftest import open_store


@pytest.fixture
def config(tmp_path: Path, sqlite_db: str) -> Path:
    path = tmp_path / "config.yaml"
    document = {"database": {"url": sqlite_db}, "metrics": METRICS, "alerts": {"rules": [SPIKE]}}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def test_a_silence_is_added_listed_and_expired(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "silence", "add", "spike", "--labels", "team=payments", "--for", "2h",
               "--reason", "bank maintenance") == 0  # fmt: skip
    assert "silence #1: spike muted until" in capsys.readouterr().out
    assert run(config, "silence", "list") == 0
    listed = capsys.readouterr().out
    assert "#1 spike team=payments running until" in listed and "bank maintenance" in listed
    assert run(config, "silence", "expire", "1") == 0
    assert run(config, "silence", "list") == 0
    assert "no running silence" in capsys.readouterr().out
    assert run(config, "silence", "list", "--all") == 0
    assert "#1 spike team=payments ended" in capsys.readouterr().out
    assert run(config, "silence", "expire", "1") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["spke", "--for", "2h"], "no alert rule 'spke' (rules: spike)"),
        (["spike", "--for", "2 hours"], "bad duration '2 hours'"),
        (["spike", "--for", "0"], "a silence needs a positive duration"),
        (["spike", "--for", "1h", "--labels", "team"], "--labels takes K=V pairs"),
    ],
)
def test_a_bad_silence_is_refused_with_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(config, "silence", "add", *args, "--reason", "why") == 2
    assert message in capsys.readouterr().err


def test_alerts_lists_every_rule_with_its_state_and_summary(
    config: Path, sqlite_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "alerts") == 0
    assert "no alert has been evaluated yet" in capsys.readouterr().out
    clock = ManualClock()
    store = open_store(sqlite_db, clock)
    try:
        settings = Settings.model_validate(yaml.safe_load(config.read_text(encoding="utf-8")))
        bench = Bench(store, settings, clock)
        bench.set("failure_rate", 0.3)
        bench.tick()
    finally:
        store.engine.dispose()
    assert run(config, "alerts") == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("spike") and "firing" in line and "提现失败率 30.0% > 10%" in line
    assert run(config, "alerts", "--json") == 0
    assert '"state": "firing"' in capsys.readouterr().out
